"""Stats pages: the owning service confirms the link, pack or track is in `{org}` (404
otherwise), then analytics answers for it. `from`/`to` are optional UTC dates. Each report
has a `.csv` twin: its raw engagement, streamed from analytics as it is read (any size)."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from litestar import Controller, get
from litestar.openapi import ResponseSpec
from litestar.params import Parameter
from litestar.response import Stream

from contracts.api.analytics import LinkReport, PackReport, Report, TrackReport
from gateway.auth import SESSION_COOKIE_OK, Membership, actor
from gateway.context import GatewayContext
from servicekit.errors import validation_error
from servicekit.upstream import InternalClient, segment

ReportT = TypeVar("ReportT", bound=Report)
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


def _params(dates: tuple[date | None, date | None]) -> dict[str, str]:
    return {k: v.isoformat() for k, v in zip(("from", "to"), dates, strict=True) if v is not None}


async def _report(
    ctx: GatewayContext,
    owner: InternalClient,
    owner_path: str,
    stats_path: str,
    membership: Membership,
    dates: tuple[date | None, date | None],
    model: type[ReportT],
) -> ReportT:
    await owner.request("GET", owner_path, actor=actor(membership.caller))
    upstream = await ctx.analytics.request("GET", stats_path, params=_params(dates))
    return model.model_validate_json(upstream.content)


async def _export(
    ctx: GatewayContext,
    owner: InternalClient,
    owner_path: str,
    scope_path: str,
    membership: Membership,
    dates: tuple[date | None, date | None],
    filename: str,
) -> Stream:
    """Owner-checked exactly like the JSON report, then analytics' CSV passed through."""
    if dates[0] and dates[1] and dates[0] > dates[1]:
        raise validation_error("from is after to", {"from": "must not be after to"})
    await owner.request("GET", owner_path, actor=actor(membership.caller))
    upstream = await ctx.analytics.open_stream(
        f"/internal/stats/{scope_path}/engagement.csv", params=_params(dates)
    )
    return Stream(
        upstream.chunks(),
        media_type=CSV,
        headers={"content-disposition": f'attachment; filename="{filename}.csv"'},
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
        org = membership.organization_id
        return await _report(
            ctx,
            ctx.sharing,
            f"/internal/orgs/{segment(org)}/shares/{segment(link_id)}",
            f"/internal/stats/links/{segment(link_id)}",
            membership,
            (start, end),
            LinkReport,
        )

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
        org = membership.organization_id
        return await _report(
            ctx,
            ctx.catalog,
            f"/internal/orgs/{segment(org)}/packs/{segment(pack_id)}",
            f"/internal/stats/packs/{segment(pack_id)}",
            membership,
            (start, end),
            PackReport,
        )

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
        org = membership.organization_id
        return await _report(
            ctx,
            ctx.catalog,
            f"/internal/orgs/{segment(org)}/tracks/{segment(track_id)}",
            f"/internal/stats/tracks/{segment(track_id)}",
            membership,
            (start, end),
            TrackReport,
        )

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
        org = membership.organization_id
        return await _export(
            ctx,
            ctx.sharing,
            f"/internal/orgs/{segment(org)}/shares/{segment(link_id)}",
            f"links/{segment(link_id)}",
            membership,
            (start, end),
            "link-analytics",
        )

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
        org = membership.organization_id
        return await _export(
            ctx,
            ctx.catalog,
            f"/internal/orgs/{segment(org)}/packs/{segment(pack_id)}",
            f"packs/{segment(pack_id)}",
            membership,
            (start, end),
            "pack-analytics",
        )

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
        org = membership.organization_id
        return await _export(
            ctx,
            ctx.catalog,
            f"/internal/orgs/{segment(org)}/tracks/{segment(track_id)}",
            f"tracks/{segment(track_id)}",
            membership,
            (start, end),
            "track-analytics",
        )
