"""Org-scoped catalog and sharing routes: membership is checked here, then forwarded."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from pydantic import TypeAdapter

from contracts.api.catalog import DeletedTrack, TrackPage, TrackUpdateForm, TrackUploadForm
from contracts.dto import (
    CreateTrackLink,
    LinkStats,
    ShareLinkCreated,
    ShareLinkPage,
    SignedUrl,
    TrackView,
)
from gateway.api.paging import LIMIT, OFFSET
from gateway.auth import Membership, actor
from gateway.context import GatewayContext
from gateway.forwarding import UPLOAD_ROUTE, forward, forward_as, upstream_path
from gateway.multipart import AUDIO_PARTS, IMAGE_PARTS, multipart_form
from servicekit.internal import ORG_ROLE_HEADER

LINK_STATS = TypeAdapter(dict[str, LinkStats])

Req = Request[Any, Any, Any]


class TracksController(Controller):
    path = "/v1/music/{org:str}/tracks"

    @post(
        "/",
        status_code=201,
        opt=UPLOAD_ROUTE,
        operation_class=multipart_form(TrackUploadForm, {"file": AUDIO_PARTS}),
    )
    async def upload(self, request: Req, membership: Membership, ctx: GatewayContext) -> TrackView:
        """Multipart `file` + `title` (+ `visibility`, `album_id`); streamed to catalog."""
        return await forward_as(TrackView, ctx.catalog, request, membership)

    @get("/")
    async def list_tracks(
        self,
        request: Req,
        membership: Membership,
        ctx: GatewayContext,
        limit: int = LIMIT,
        offset: int = OFFSET,
    ) -> TrackPage:
        return await forward_as(TrackPage, ctx.catalog, request, membership)

    @get("/{track_id:str}")
    async def get_track(
        self, request: Req, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> TrackView:
        return await forward_as(TrackView, ctx.catalog, request, membership)

    @patch(  # a form that may carry artwork
        "/{track_id:str}",
        opt=UPLOAD_ROUTE,
        operation_class=multipart_form(TrackUpdateForm, {"image": IMAGE_PARTS}),
    )
    async def update(
        self, request: Req, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> TrackView:
        """Form fields: title, album, features, tags, description, support_gate, visibility,
        image (file), remove_image=true. Owner only."""
        return await forward_as(TrackView, ctx.catalog, request, membership)

    @delete("/{track_id:str}", status_code=200)
    async def delete_track(
        self, request: Req, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> DeletedTrack:
        """Owner only; its objects are removed from storage and its links stop resolving."""
        return await forward_as(DeletedTrack, ctx.catalog, request, membership)

    @get("/{track_id:str}/playback-url")
    async def playback_url(
        self, request: Req, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> SignedUrl:
        return await forward_as(SignedUrl, ctx.catalog, request, membership)

    @get("/{track_id:str}/download-url")
    async def download_url(
        self, request: Req, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> SignedUrl:
        return await forward_as(SignedUrl, ctx.catalog, request, membership)

    @post("/{track_id:str}/share", status_code=201)
    async def share(
        self,
        request: Req,
        track_id: str,
        membership: Membership,
        ctx: GatewayContext,
        data: CreateTrackLink | None = None,
    ) -> ShareLinkCreated:
        """Optional `{visibility, expires_in_days}`; the raw token is in this response only."""
        upstream = await ctx.sharing.request(
            "POST",
            upstream_path(request),
            actor=actor(membership.caller),
            headers={ORG_ROLE_HEADER: membership.role, "content-type": "application/json"},
            content=(data or CreateTrackLink()).model_dump_json(exclude_unset=True),
        )
        return ShareLinkCreated.model_validate_json(upstream.content)


class SharesController(Controller):
    path = "/v1/music/{org:str}/shares"

    @get("/")
    async def list_links(
        self,
        membership: Membership,
        ctx: GatewayContext,
        limit: int = LIMIT,
        offset: int = OFFSET,
    ) -> ShareLinkPage:
        """One call to sharing for the page, one to analytics for all its stats."""
        listed = await ctx.sharing.request(
            "GET",
            f"/internal/orgs/{membership.organization_id}/shares",
            params={"limit": str(limit), "offset": str(offset)},
            actor=actor(membership.caller),
        )
        page = ShareLinkPage.model_validate_json(listed.content)
        if page.items:
            counted = await ctx.analytics.request(
                "GET",
                "/internal/stats/links",
                params={"ids": ",".join(item.id for item in page.items)},
            )
            stats = LINK_STATS.validate_json(counted.content)
            for item in page.items:
                item.stats = stats.get(item.id, item.stats)
        return page

    @delete("/{link_id:str}", status_code=204)
    async def revoke(
        self, request: Req, link_id: str, membership: Membership, ctx: GatewayContext
    ) -> None:
        await forward(ctx.sharing, request, membership)
        # at once here; other gateway replicas drop it on the `share.lifecycle` event
        ctx.track_link_opens.cache.link_revoked(link_id)
        ctx.media_access.cache.link_gone(link_id)  # and its media URLs stop playing
