"""Org-scoped catalog and sharing routes: membership is checked here, then forwarded."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import Parameter

from gateway.auth import Membership, actor
from gateway.context import GatewayContext

_PAGE = {"limit": Parameter(default=20, ge=1, le=100), "offset": Parameter(default=0, ge=0)}


def _forward_json(upstream: Any) -> Response[Any]:
    return Response(
        upstream.content, status_code=upstream.status_code, media_type="application/json"
    )


class TracksController(Controller):
    path = "/v1/music/{org:str}/tracks"

    @post("/", status_code=201)
    async def upload(
        self, request: Request[Any, Any, Any], membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        """Streams the multipart body to catalog, which sniffs and stores the audio."""
        headers = {"content-type": request.headers.get("content-type", "")}
        if "content-length" in request.headers:
            headers["content-length"] = request.headers["content-length"]
        upstream = await ctx.catalog.request(
            "POST",
            f"/internal/orgs/{membership.organization_id}/tracks",
            actor=actor(membership.caller),
            headers=headers,
            content=request.stream(),
        )
        return _forward_json(upstream)

    @get("/")
    async def list_tracks(
        self,
        membership: Membership,
        ctx: GatewayContext,
        limit: int = _PAGE["limit"],
        offset: int = _PAGE["offset"],
    ) -> Response[Any]:
        upstream = await ctx.catalog.request(
            "GET",
            f"/internal/orgs/{membership.organization_id}/tracks",
            params={"limit": limit, "offset": offset},
            actor=actor(membership.caller),
        )
        return _forward_json(upstream)

    @get("/{track_id:str}")
    async def get_track(
        self, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        upstream = await ctx.catalog.request(
            "GET",
            f"/internal/orgs/{membership.organization_id}/tracks/{track_id}",
            actor=actor(membership.caller),
        )
        return _forward_json(upstream)

    @get("/{track_id:str}/playback-url")
    async def playback_url(
        self, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        upstream = await ctx.catalog.request(
            "GET",
            f"/internal/orgs/{membership.organization_id}/tracks/{track_id}/playback-url",
            actor=actor(membership.caller),
        )
        return _forward_json(upstream)

    @get("/{track_id:str}/download-url")
    async def download_url(
        self, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        upstream = await ctx.catalog.request(
            "GET",
            f"/internal/orgs/{membership.organization_id}/tracks/{track_id}/download-url",
            actor=actor(membership.caller),
        )
        return _forward_json(upstream)

    @post("/{track_id:str}/share", status_code=201)
    async def share(
        self,
        request: Request[Any, Any, Any],
        track_id: str,
        membership: Membership,
        ctx: GatewayContext,
    ) -> Response[Any]:
        body = await request.body()
        upstream = await ctx.sharing.request(
            "POST",
            f"/internal/orgs/{membership.organization_id}/tracks/{track_id}/share",
            actor=actor(membership.caller),
            content=body,
            headers={"content-type": "application/json"} if body.strip() else None,
        )
        return _forward_json(upstream)


class SharesController(Controller):
    path = "/v1/music/{org:str}/shares"

    @get("/")
    async def list_links(
        self,
        membership: Membership,
        ctx: GatewayContext,
        limit: int = _PAGE["limit"],
        offset: int = _PAGE["offset"],
    ) -> dict[str, Any]:
        """One call to sharing for the page, one to analytics for all its stats."""
        page = await ctx.sharing.json(
            "GET",
            f"/internal/orgs/{membership.organization_id}/shares",
            params={"limit": limit, "offset": offset},
            actor=actor(membership.caller),
        )
        link_ids = [item["id"] for item in page["items"]]
        stats = (
            await ctx.analytics.json(
                "GET", "/internal/stats/links", params={"ids": ",".join(link_ids)}
            )
            if link_ids
            else {}
        )
        for item in page["items"]:
            item["stats"] = stats.get(item["id"], item["stats"])
        return dict(page)

    @delete("/{link_id:str}", status_code=204)
    async def revoke(self, link_id: str, membership: Membership, ctx: GatewayContext) -> None:
        await ctx.sharing.request(
            "DELETE",
            f"/internal/orgs/{membership.organization_id}/shares/{link_id}",
            actor=actor(membership.caller),
        )
