"""Org-scoped catalog routes: albums, packs, split sheets, track edits. Membership is
checked by the `membership` dependency; catalog checks ownership."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import Parameter

from gateway.api.paging import LIMIT, OFFSET
from gateway.auth import Membership
from gateway.context import GatewayContext
from gateway.forwarding import UPLOAD_ROUTE, forward

Req = Request[Any, Any, Any]


class SplitSheetController(Controller):
    path = "/v1/music/{org:str}/tracks/{track_id:str}/split-sheet"

    @get("/")
    async def get_split_sheet(
        self, request: Req, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        return await forward(ctx.catalog, request, membership)

    @put("/")
    async def put_split_sheet(
        self, request: Req, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        """`{contributors: [{name, user_handle?, role, percentage}]}`; percentages sum to 100."""
        return await forward(ctx.catalog, request, membership)

    @post("/share", status_code=201)
    async def share(
        self, request: Req, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        """A split-sheet link: `{name?, expires_in_days?}` -> the raw token and URL, once."""
        return await forward(ctx.sharing, request, membership)

    @post("/status", status_code=200)
    async def split_sheet_status(
        self, request: Req, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        """`{status: draft|sent|signed}`; nothing leaves `signed`."""
        return await forward(ctx.catalog, request, membership)


class AlbumsController(Controller):
    path = "/v1/music/{org:str}/albums"

    @post("/")
    async def create(
        self, request: Req, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        """`{title, slug?, description?}`: 201 for a new shell, 200 with the existing one."""
        return await forward(ctx.catalog, request, membership)

    @get("/")
    async def list_albums(
        self, request: Req, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        return await forward(ctx.catalog, request, membership)

    @get("/{album_id:str}")
    async def get_album(
        self, request: Req, album_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        return await forward(ctx.catalog, request, membership)

    @patch("/{album_id:str}")
    async def update(
        self, request: Req, album_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        """`{title?, description?}`; a new title moves the slug, the old one keeps working."""
        return await forward(ctx.catalog, request, membership)

    @post("/{album_id:str}/cover", status_code=200, opt=UPLOAD_ROUTE)
    async def cover(
        self, request: Req, album_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        return await forward(ctx.catalog, request, membership)

    @post("/{album_id:str}/finalize", status_code=200)
    async def finalize(
        self, request: Req, album_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        """`{track_ids}`: appends new tracks in order; the first success releases the album."""
        return await forward(ctx.catalog, request, membership)

    @delete("/{album_id:str}/tracks/{track_id:str}", status_code=200)
    async def remove_track(
        self,
        request: Req,
        album_id: str,
        track_id: str,
        membership: Membership,
        ctx: GatewayContext,
    ) -> Response[Any]:
        return await forward(ctx.catalog, request, membership)

    @delete("/{album_id:str}", status_code=200)
    async def delete_album(
        self,
        request: Req,
        album_id: str,
        membership: Membership,
        ctx: GatewayContext,
        cascade: bool = Parameter(default=False),
    ) -> Response[Any]:
        return await forward(ctx.catalog, request, membership)


class PacksController(Controller):
    path = "/v1/music/{org:str}/packs"

    @post("/", status_code=201)
    async def create(
        self, request: Req, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        """`{title, description?, track_ids?}`: only your own tracks."""
        return await forward(ctx.catalog, request, membership)

    @get("/")
    async def list_packs(
        self,
        request: Req,
        membership: Membership,
        ctx: GatewayContext,
        limit: int = LIMIT,
        offset: int = OFFSET,
    ) -> Response[Any]:
        return await forward(ctx.catalog, request, membership)

    @get("/{pack_id:str}")
    async def get_pack(
        self, request: Req, pack_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        return await forward(ctx.catalog, request, membership)

    @patch("/{pack_id:str}")
    async def update(
        self, request: Req, pack_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        return await forward(ctx.catalog, request, membership)

    @post("/{pack_id:str}/tracks", status_code=200)
    async def add_tracks(
        self, request: Req, pack_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        """`{track_ids}` appended in order."""
        return await forward(ctx.catalog, request, membership)

    @put("/{pack_id:str}/tracks")
    async def reorder(
        self, request: Req, pack_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        """`{track_ids}`: the pack's tracks in their new order."""
        return await forward(ctx.catalog, request, membership)

    @delete("/{pack_id:str}/tracks/{track_id:str}", status_code=200)
    async def remove_track(
        self, request: Req, pack_id: str, track_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        return await forward(ctx.catalog, request, membership)

    @post("/{pack_id:str}/share", status_code=201)
    async def share(
        self, request: Req, pack_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        """A pack link: `{name?, access_code?, disable_downloads?, expires_in_days?, grantees?}`."""
        return await forward(ctx.sharing, request, membership)

    @delete("/{pack_id:str}", status_code=200)
    async def delete_pack(
        self, request: Req, pack_id: str, membership: Membership, ctx: GatewayContext
    ) -> Response[Any]:
        return await forward(ctx.catalog, request, membership)
