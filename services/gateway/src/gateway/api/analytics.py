"""Stats pages: the owning service confirms the link, pack or track is in `{org}` (404
otherwise), then analytics answers for it. `from`/`to` are optional UTC dates."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from litestar import Controller, get
from litestar.params import Parameter

from contracts.api.analytics import LinkReport, PackReport, Report, TrackReport
from gateway.auth import Membership, actor
from gateway.context import GatewayContext
from servicekit.upstream import InternalClient, segment

ReportT = TypeVar("ReportT", bound=Report)


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
    params = {k: v.isoformat() for k, v in zip(("from", "to"), dates, strict=True) if v is not None}
    upstream = await ctx.analytics.request("GET", stats_path, params=params)
    return model.model_validate_json(upstream.content)


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
