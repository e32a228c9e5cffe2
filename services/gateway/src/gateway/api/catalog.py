"""Org-scoped catalog routes: albums, packs, split sheets, track edits. Membership is
checked by the `membership` dependency; catalog checks ownership.

JSON bodies are validated here as the contract models catalog takes (a 422 before any
call), then forwarded as sent; answers are read as the contract models catalog sends."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from contracts.api.catalog import (
    AlbumCoverForm,
    CreateAlbum,
    CreatePack,
    DeletedAlbum,
    DeletedPack,
    FinalizeAlbum,
    PackPage,
    PackTracks,
    RemovedAlbumTrack,
    SplitSheetInput,
    SplitSheetStatusChange,
    UpdateAlbum,
    UpdatePack,
)
from contracts.api.sharing import CreatePackLink, CreateSplitSheetLink, PackLinkCreated
from contracts.dto import (
    AlbumDetail,
    AlbumPage,
    AlbumSummary,
    PackView,
    ShareLinkCreated,
    SplitSheetView,
)
from gateway.api.paging import LIMIT, OFFSET
from gateway.auth import Membership
from gateway.context import GatewayContext
from gateway.forwarding import UPLOAD_ROUTE, forward_as, read_as, send
from gateway.multipart import IMAGE_PARTS, multipart_form

Req = Request[Any, Any, Any]


class SplitSheetController(Controller):
    path = "/v1/music/{org:str}/tracks/{track_id:str}/split-sheet"

    @get("/")
    async def get_split_sheet(
        self, request: Req, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> SplitSheetView:
        return await forward_as(SplitSheetView, ctx.catalog, request, membership)

    @put("/")
    async def put_split_sheet(
        self,
        request: Req,
        track_id: str,
        data: SplitSheetInput,
        membership: Membership,
        ctx: GatewayContext,
    ) -> SplitSheetView:
        """`{contributors: [{name, user_handle?, role, percentage}]}`; percentages sum to 100."""
        return await forward_as(SplitSheetView, ctx.catalog, request, membership)

    @post("/share", status_code=201)
    async def share(
        self,
        request: Req,
        track_id: str,
        membership: Membership,
        ctx: GatewayContext,
        data: CreateSplitSheetLink | None = None,
    ) -> ShareLinkCreated:
        """A split-sheet link: `{name?, expires_in_days?}` -> the raw token and URL, once."""
        return await forward_as(ShareLinkCreated, ctx.sharing, request, membership)

    @post("/status", status_code=200)
    async def split_sheet_status(
        self,
        request: Req,
        track_id: str,
        data: SplitSheetStatusChange,
        membership: Membership,
        ctx: GatewayContext,
    ) -> SplitSheetView:
        """`{status: draft|sent|signed}`; nothing leaves `signed`."""
        return await forward_as(SplitSheetView, ctx.catalog, request, membership)


class AlbumsController(Controller):
    path = "/v1/music/{org:str}/albums"

    @post(
        "/",
        status_code=201,
        responses={200: ResponseSpec(AlbumSummary, description="The album you already had")},
    )
    async def create(
        self, request: Req, data: CreateAlbum, membership: Membership, ctx: GatewayContext
    ) -> Response[AlbumSummary]:
        """`{title, slug?, description?}`: 201 for a new shell, 200 with the existing one."""
        upstream = await send(ctx.catalog, request, membership)
        return Response(read_as(AlbumSummary, upstream), status_code=upstream.status_code)

    @get("/")
    async def list_albums(
        self,
        request: Req,
        membership: Membership,
        ctx: GatewayContext,
        limit: int = LIMIT,
        offset: int = OFFSET,
    ) -> AlbumPage:
        """Paged like every list (SPEC §6): drafts included, newest first."""
        return await forward_as(AlbumPage, ctx.catalog, request, membership)

    @get("/{album_id:str}")
    async def get_album(
        self, request: Req, album_id: str, membership: Membership, ctx: GatewayContext
    ) -> AlbumDetail:
        return await forward_as(AlbumDetail, ctx.catalog, request, membership)

    @patch("/{album_id:str}")
    async def update(
        self,
        request: Req,
        album_id: str,
        data: UpdateAlbum,
        membership: Membership,
        ctx: GatewayContext,
    ) -> AlbumSummary:
        """`{title?, description?}`; a new title moves the slug, the old one keeps working."""
        return await forward_as(AlbumSummary, ctx.catalog, request, membership)

    @post(
        "/{album_id:str}/cover",
        status_code=200,
        opt=UPLOAD_ROUTE,
        operation_class=multipart_form(AlbumCoverForm, {"image": IMAGE_PARTS}),
    )
    async def cover(
        self, request: Req, album_id: str, membership: Membership, ctx: GatewayContext
    ) -> AlbumSummary:
        return await forward_as(AlbumSummary, ctx.catalog, request, membership)

    @post("/{album_id:str}/finalize", status_code=200)
    async def finalize(
        self,
        request: Req,
        album_id: str,
        data: FinalizeAlbum,
        membership: Membership,
        ctx: GatewayContext,
    ) -> AlbumDetail:
        """`{track_ids}`: appends new tracks in order; the first success releases the album."""
        return await forward_as(AlbumDetail, ctx.catalog, request, membership)

    @delete("/{album_id:str}/tracks/{track_id:str}", status_code=200)
    async def remove_track(
        self,
        request: Req,
        album_id: str,
        track_id: str,
        membership: Membership,
        ctx: GatewayContext,
    ) -> RemovedAlbumTrack:
        return await forward_as(RemovedAlbumTrack, ctx.catalog, request, membership)

    @delete("/{album_id:str}", status_code=200)
    async def delete_album(
        self,
        request: Req,
        album_id: str,
        membership: Membership,
        ctx: GatewayContext,
        cascade: bool = Parameter(default=False),
    ) -> DeletedAlbum:
        return await forward_as(DeletedAlbum, ctx.catalog, request, membership)


class PacksController(Controller):
    path = "/v1/music/{org:str}/packs"

    @post("/", status_code=201)
    async def create(
        self, request: Req, data: CreatePack, membership: Membership, ctx: GatewayContext
    ) -> PackView:
        """`{title, description?, track_ids?}`: only your own tracks."""
        return await forward_as(PackView, ctx.catalog, request, membership)

    @get("/")
    async def list_packs(
        self,
        request: Req,
        membership: Membership,
        ctx: GatewayContext,
        limit: int = LIMIT,
        offset: int = OFFSET,
    ) -> PackPage:
        return await forward_as(PackPage, ctx.catalog, request, membership)

    @get("/{pack_id:str}")
    async def get_pack(
        self, request: Req, pack_id: str, membership: Membership, ctx: GatewayContext
    ) -> PackView:
        return await forward_as(PackView, ctx.catalog, request, membership)

    @patch("/{pack_id:str}")
    async def update(
        self,
        request: Req,
        pack_id: str,
        data: UpdatePack,
        membership: Membership,
        ctx: GatewayContext,
    ) -> PackView:
        return await forward_as(PackView, ctx.catalog, request, membership)

    @post("/{pack_id:str}/tracks", status_code=200)
    async def add_tracks(
        self,
        request: Req,
        pack_id: str,
        data: PackTracks,
        membership: Membership,
        ctx: GatewayContext,
    ) -> PackView:
        """`{track_ids}` appended in order."""
        return await forward_as(PackView, ctx.catalog, request, membership)

    @put("/{pack_id:str}/tracks")
    async def reorder(
        self,
        request: Req,
        pack_id: str,
        data: PackTracks,
        membership: Membership,
        ctx: GatewayContext,
    ) -> PackView:
        """`{track_ids}`: the pack's tracks in their new order."""
        return await forward_as(PackView, ctx.catalog, request, membership)

    @delete("/{pack_id:str}/tracks/{track_id:str}", status_code=200)
    async def remove_track(
        self, request: Req, pack_id: str, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> PackView:
        return await forward_as(PackView, ctx.catalog, request, membership)

    @post("/{pack_id:str}/share", status_code=201)
    async def share(
        self,
        request: Req,
        pack_id: str,
        membership: Membership,
        ctx: GatewayContext,
        data: CreatePackLink | None = None,
    ) -> PackLinkCreated:
        """A pack link: `{name?, access_code?, disable_downloads?, expires_in_days?, grantees?}`."""
        return await forward_as(PackLinkCreated, ctx.sharing, request, membership)

    @delete("/{pack_id:str}", status_code=200)
    async def delete_pack(
        self, request: Req, pack_id: str, membership: Membership, ctx: GatewayContext
    ) -> DeletedPack:
        return await forward_as(DeletedPack, ctx.catalog, request, membership)
