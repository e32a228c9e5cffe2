"""Org-scoped catalog and sharing routes: membership is checked here, then forwarded."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post

from contracts.api.catalog import DeletedTrack, TrackPage, TrackUpdateForm, TrackUploadForm
from contracts.dto import (
    CreateTrackLink,
    ShareLinkCreated,
    ShareLinkFilter,
    ShareLinkPage,
    SignedUrl,
    TrackView,
)
from contracts.events import LinkKind
from gateway.api.paging import LIMIT, LINK_KIND, OFFSET, PACK_FILTER, TRACK_FILTER
from gateway.auth import Membership
from gateway.context import GatewayContext
from gateway.forwarding import UPLOAD_ROUTE, forward_as
from gateway.multipart import AUDIO_PARTS, IMAGE_PARTS, multipart_form
from gateway.service.share_links import create_track_link, list_links_with_stats, revoke_link

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
        return await create_track_link(ctx, membership, track_id, data or CreateTrackLink())


class SharesController(Controller):
    path = "/v1/music/{org:str}/shares"

    @get("/")
    async def list_links(
        self,
        membership: Membership,
        ctx: GatewayContext,
        limit: int = LIMIT,
        offset: int = OFFSET,
        kind: LinkKind | None = LINK_KIND,
        track_id: str | None = TRACK_FILTER,
        pack_id: str | None = PACK_FILTER,
    ) -> ShareLinkPage:
        """Newest first; `kind`, `track_id` and `pack_id` keep only the links that match
        (`total` counts those). One call to sharing for the page, which filters it, one to
        analytics for all its stats."""
        filters = ShareLinkFilter(kind=kind, track_id=track_id, pack_id=pack_id)
        return await list_links_with_stats(ctx, membership, limit, offset, filters)

    @delete("/{link_id:str}", status_code=204)
    async def revoke(
        self, request: Req, link_id: str, membership: Membership, ctx: GatewayContext
    ) -> None:
        await revoke_link(ctx, membership, link_id)
