"""Stats pages: the owning service confirms the link, pack or track is in `{org}` (404
otherwise), then analytics answers for it. `from`/`to` are optional UTC dates. Each report
has a `.csv` twin: its raw engagement, streamed from analytics as it is read (any size).
The calls are made in service/reports.py."""

from __future__ import annotations

from datetime import date

from litestar import Controller, get
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.response import Stream

from contracts.api.analytics import LinkReport, PackReport, TrackReport
from gateway.auth import SESSION_COOKIE_OK, Membership
from gateway.context import GatewayContext
from gateway.service import reports
from gateway.service.reports import CsvExport

CSV = "text/csv; charset=utf-8"
CSV_RESPONSE = {
    200: ResponseSpec(
        data_container=str,
        media_type="text/csv",
        description="One row per engagement of the range after a header row: time, kind, "
        "counted, link_id, track_id, source, browser, os, device_class, listener, "
        "seconds_heard, qualified, preview_reason (docs/listening.md)",
        generate_examples=False,
    )
}


def _csv(export: CsvExport) -> Stream:
    return Stream(
        export.chunks,
        media_type=CSV,
        headers={"content-disposition": f'attachment; filename="{export.filename}.csv"'},
    )


class AnalyticsController(Controller):
    path = "/v1/music/{org:str}"

    @get("/shares/{link_id:str}/analytics")
    async def link(
        self,
        link_id: str,
        membership: Membership,
        ctx: GatewayContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> LinkReport:
        """Views, plays, downloads, re-shares, unique visitors, listeners, sources, daily."""
        return await reports.link_report(ctx, membership, link_id, (start, end))

    @get("/packs/{pack_id:str}/analytics")
    async def pack(
        self,
        pack_id: str,
        membership: Membership,
        ctx: GatewayContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> PackReport:
        """The same over every link of the pack; `uniqueVisitors` counts sessions."""
        return await reports.pack_report(ctx, membership, pack_id, (start, end))

    @get("/tracks/{track_id:str}/analytics")
    async def track(
        self,
        track_id: str,
        membership: Membership,
        ctx: GatewayContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> TrackReport:
        """Plays over time, by source and by link."""
        return await reports.track_report(ctx, membership, track_id, (start, end))

    @get(
        "/shares/{link_id:str}/analytics.csv",
        media_type=CSV,
        responses=CSV_RESPONSE,
        opt=SESSION_COOKIE_OK,  # the dashboard's Export CSV button is a plain link
    )
    async def link_csv(
        self,
        link_id: str,
        membership: Membership,
        ctx: GatewayContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> Stream:
        """The link report's raw engagement as CSV, streamed."""
        return _csv(await reports.export(ctx, membership, "links", link_id, (start, end)))

    @get(
        "/packs/{pack_id:str}/analytics.csv",
        media_type=CSV,
        responses=CSV_RESPONSE,
        opt=SESSION_COOKIE_OK,  # the dashboard's Export CSV button is a plain link
    )
    async def pack_csv(
        self,
        pack_id: str,
        membership: Membership,
        ctx: GatewayContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> Stream:
        """The pack report's raw engagement (every link of the pack) as CSV, streamed."""
        return _csv(await reports.export(ctx, membership, "packs", pack_id, (start, end)))

    @get(
        "/tracks/{track_id:str}/analytics.csv",
        media_type=CSV,
        responses=CSV_RESPONSE,
        opt=SESSION_COOKIE_OK,  # the dashboard's Export CSV button is a plain link
    )
    async def track_csv(
        self,
        track_id: str,
        membership: Membership,
        ctx: GatewayContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> Stream:
        """The track report's raw engagement as CSV, streamed."""
        return _csv(await reports.export(ctx, membership, "tracks", track_id, (start, end)))
