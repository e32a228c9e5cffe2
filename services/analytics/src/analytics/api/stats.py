"""Internal stats API the gateway composes into its responses (it checks ownership first)."""

from __future__ import annotations

from datetime import date

from litestar import Controller, get
from litestar.params import Parameter
from litestar.response import Stream

from analytics.context import AnalyticsContext
from analytics.db.export import csv_chunks
from analytics.db.stats import Scope, report, stats_for_links, track_links
from contracts.api.analytics import LinkReport, PackReport, TrackReport
from contracts.dto import LinkStats
from servicekit.errors import validation_error

MAX_IDS = 200


CSV = "text/csv; charset=utf-8"


def _range(start: date | None, end: date | None) -> tuple[date | None, date | None]:
    if start and end and start > end:
        raise validation_error("from is after to", {"from": "must not be after to"})
    return start, end


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

    @get("/links/{link_id:str}")
    async def link(
        self,
        link_id: str,
        ctx: AnalyticsContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> LinkReport:
        scope = Scope("link_id", link_id, *_range(start, end))
        async with ctx.sessions() as session:
            activity = await report(session, scope)
        return LinkReport(link_id=link_id, start=scope.start, end=scope.end, **dict(activity))

    @get("/packs/{pack_id:str}")
    async def pack(
        self,
        pack_id: str,
        ctx: AnalyticsContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> PackReport:
        """Over all the pack's links. `uniqueVisitors` counts sessions, as Swayzio does."""
        scope = Scope("pack_id", pack_id, *_range(start, end))
        async with ctx.sessions() as session:
            activity = await report(session, scope)
        return PackReport(
            pack_id=pack_id,
            start=scope.start,
            end=scope.end,
            unique_visitors_by_session=activity.unique_sessions,
            **dict(activity),
        )

    @get("/tracks/{track_id:str}")
    async def track(
        self,
        track_id: str,
        ctx: AnalyticsContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> TrackReport:
        """Plays over time, by source, and through which links."""
        scope = Scope("track_id", track_id, *_range(start, end))
        async with ctx.sessions() as session:
            activity = await report(session, scope)
            by_link = await track_links(session, scope)
        return TrackReport(
            track_id=track_id, start=scope.start, end=scope.end, by_link=by_link, **dict(activity)
        )

    @get("/links/{link_id:str}/engagement.csv", media_type=CSV)
    async def link_csv(
        self,
        link_id: str,
        ctx: AnalyticsContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> Stream:
        """The link report's raw engagement as CSV (db/export.py)."""
        return _export(ctx, Scope("link_id", link_id, *_range(start, end)))

    @get("/packs/{pack_id:str}/engagement.csv", media_type=CSV)
    async def pack_csv(
        self,
        pack_id: str,
        ctx: AnalyticsContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> Stream:
        return _export(ctx, Scope("pack_id", pack_id, *_range(start, end)))

    @get("/tracks/{track_id:str}/engagement.csv", media_type=CSV)
    async def track_csv(
        self,
        track_id: str,
        ctx: AnalyticsContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> Stream:
        return _export(ctx, Scope("track_id", track_id, *_range(start, end)))


def _export(ctx: AnalyticsContext, scope: Scope) -> Stream:
    return Stream(csv_chunks(ctx.sessions, scope), media_type=CSV)
