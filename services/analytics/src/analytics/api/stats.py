"""Internal stats API the gateway composes into its responses."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import Parameter

from analytics.context import AnalyticsContext
from analytics.db.stats import stats_for_links
from contracts.dto import LinkStats
from servicekit.errors import validation_error

MAX_IDS = 200


class StatsController(Controller):
    path = "/internal/stats"

    @get("/links")
    async def links(
        self, ctx: AnalyticsContext, ids: str = Parameter(default="", max_length=20_000)
    ) -> dict[str, LinkStats]:
        link_ids = [i for i in ids.split(",") if i]
        if len(link_ids) > MAX_IDS:
            raise validation_error("too many ids", {"ids": f"at most {MAX_IDS}"})
        async with ctx.sessions() as session:
            return await stats_for_links(session, link_ids)
