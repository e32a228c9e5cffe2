"""Internal stats API the gateway composes into its responses (it checks ownership first);
the reports and exports are made in service/reports.py and service/exports.py."""

from __future__ import annotations

from datetime import date

from litestar import Controller, get
from litestar.params import Parameter
from litestar.response import Stream

from analytics.context import AnalyticsContext
from analytics.service import exports, reports
from contracts.api.analytics import LinkReport, PackReport, TrackReport
from contracts.dto import LinkStats

CSV = "text/csv; charset=utf-8"


class StatsController(Controller):
    path = "/internal/stats"

    @get("/links")
    async def links(
        self, ctx: AnalyticsContext, ids: str = Parameter(default="", max_length=20_000)
    ) -> dict[str, LinkStats]:
        return await reports.links_stats(ctx, [i for i in ids.split(",") if i])

    @get("/links/{link_id:str}")
    async def link(
        self,
        link_id: str,
        ctx: AnalyticsContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> LinkReport:
        return await reports.link_report(ctx, link_id, start, end)

    @get("/packs/{pack_id:str}")
    async def pack(
        self,
        pack_id: str,
        ctx: AnalyticsContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> PackReport:
        """Over all the pack's links. `uniqueVisitors` counts sessions, as Swayzio does."""
        return await reports.pack_report(ctx, pack_id, start, end)

    @get("/tracks/{track_id:str}")
    async def track(
        self,
        track_id: str,
        ctx: AnalyticsContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> TrackReport:
        """Plays over time, by source, and through which links."""
        return await reports.track_report(ctx, track_id, start, end)

    @get("/links/{link_id:str}/engagement.csv", media_type=CSV)
    async def link_csv(
        self,
        link_id: str,
        ctx: AnalyticsContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> Stream:
        """The link report's raw engagement as CSV (domain/exports.py)."""
        return Stream(exports.engagement_csv(ctx, "link_id", link_id, start, end), media_type=CSV)

    @get("/packs/{pack_id:str}/engagement.csv", media_type=CSV)
    async def pack_csv(
        self,
        pack_id: str,
        ctx: AnalyticsContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> Stream:
        return Stream(exports.engagement_csv(ctx, "pack_id", pack_id, start, end), media_type=CSV)

    @get("/tracks/{track_id:str}/engagement.csv", media_type=CSV)
    async def track_csv(
        self,
        track_id: str,
        ctx: AnalyticsContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> Stream:
        return Stream(exports.engagement_csv(ctx, "track_id", track_id, start, end), media_type=CSV)
