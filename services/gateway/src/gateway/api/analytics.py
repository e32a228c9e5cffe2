"""Stats pages: the owning service confirms the link, pack or track is in `{org}` (404
otherwise), then analytics answers for it. `from`/`to` are optional UTC dates."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from gateway.auth import Membership, actor
from gateway.context import GatewayContext
from servicekit.upstream import InternalClient, segment

Req = Request[Any, Any, Any]


async def _report(
    ctx: GatewayContext,
    owner: InternalClient,
    owner_path: str,
    stats_path: str,
    request: Req,
    membership: Membership,
) -> Response[Any]:
    await owner.request("GET", owner_path, actor=actor(membership.caller))
    params = {k: v for k, v in request.query_params.items() if k in ("from", "to")}
    upstream = await ctx.analytics.request("GET", stats_path, params=params)
    return Response(
        upstream.content, status_code=upstream.status_code, media_type="application/json"
    )


class AnalyticsController(Controller):
    path = "/v1/music/{org:str}"

    @get("/shares/{link_id:str}/analytics")
    async def link(
        self,
        request: Req,
        link_id: str,
        membership: Membership,
        ctx: GatewayContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> Response[Any]:
        """Views, plays, downloads, re-shares, unique visitors, listeners, sources, daily."""
        org = membership.organization_id
        return await _report(
            ctx,
            ctx.sharing,
            f"/internal/orgs/{segment(org)}/shares/{segment(link_id)}",
            f"/internal/stats/links/{segment(link_id)}",
            request,
            membership,
        )

    @get("/packs/{pack_id:str}/analytics")
    async def pack(
        self,
        request: Req,
        pack_id: str,
        membership: Membership,
        ctx: GatewayContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> Response[Any]:
        """The same over every link of the pack; `uniqueVisitors` counts sessions."""
        org = membership.organization_id
        return await _report(
            ctx,
            ctx.catalog,
            f"/internal/orgs/{segment(org)}/packs/{segment(pack_id)}",
            f"/internal/stats/packs/{segment(pack_id)}",
            request,
            membership,
        )

    @get("/tracks/{track_id:str}/analytics")
    async def track(
        self,
        request: Req,
        track_id: str,
        membership: Membership,
        ctx: GatewayContext,
        start: date | None = Parameter(query="from", default=None),
        end: date | None = Parameter(query="to", default=None),
    ) -> Response[Any]:
        """Plays over time, by source and by link."""
        org = membership.organization_id
        return await _report(
            ctx,
            ctx.catalog,
            f"/internal/orgs/{segment(org)}/tracks/{segment(track_id)}",
            f"/internal/stats/tracks/{segment(track_id)}",
            request,
            membership,
        )
