"""Internal pack endpoints (rules in service/packs.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import Parameter

from catalog.context import CatalogContext
from catalog.service import packs
from contracts.api.catalog import CreatePack, DeletedPack, PackPage, PackTracks, UpdatePack
from contracts.dto import PackView
from contracts.events import PackChanged
from servicekit.internal import actor_of


class PacksController(Controller):
    path = "/internal/orgs/{org_id:str}/packs"

    @post("/", status_code=201)
    async def create(
        self, request: Request[Any, Any, Any], org_id: str, data: CreatePack, ctx: CatalogContext
    ) -> PackView:
        return await packs.create(ctx, org_id, actor_of(request), data)

    @get("/")
    async def list_packs(
        self,
        org_id: str,
        ctx: CatalogContext,
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0),
    ) -> PackPage:
        return await packs.list_packs(ctx, org_id, limit, offset)

    @get("/{pack_id:str}")
    async def get_pack(self, org_id: str, pack_id: str, ctx: CatalogContext) -> PackView:
        return await packs.get_pack(ctx, org_id, pack_id)

    @patch("/{pack_id:str}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        pack_id: str,
        data: UpdatePack,
        ctx: CatalogContext,
    ) -> PackView:
        return await packs.update(ctx, org_id, pack_id, actor_of(request), data)

    @post("/{pack_id:str}/tracks", status_code=200)
    async def add_tracks(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        pack_id: str,
        data: PackTracks,
        ctx: CatalogContext,
    ) -> PackView:
        """Appends, in the given order; tracks already in the pack stay where they are."""
        return await packs.add_tracks(ctx, org_id, pack_id, actor_of(request), data.track_ids)

    @put("/{pack_id:str}/tracks", status_code=200)
    async def reorder(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        pack_id: str,
        data: PackTracks,
        ctx: CatalogContext,
    ) -> PackView:
        """A new order: exactly the tracks already in the pack, each once."""
        return await packs.reorder(ctx, org_id, pack_id, actor_of(request), data.track_ids)

    @delete("/{pack_id:str}/tracks/{track_id:str}", status_code=200)
    async def remove_track(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        pack_id: str,
        track_id: str,
        ctx: CatalogContext,
    ) -> PackView:
        return await packs.remove_track(ctx, org_id, pack_id, track_id, actor_of(request))

    @delete("/{pack_id:str}", status_code=200)
    async def delete_pack(
        self, request: Request[Any, Any, Any], org_id: str, pack_id: str, ctx: CatalogContext
    ) -> DeletedPack:
        return await packs.delete(ctx, org_id, pack_id, actor_of(request))


class PackSnapshotController(Controller):
    """For sharing's read-through replica: a pack by id, with its ordered track ids."""

    path = "/internal/packs"

    @get("/{pack_id:str}/snapshot")
    async def snapshot(self, pack_id: str, ctx: CatalogContext) -> PackChanged:
        return await packs.snapshot(ctx, pack_id)
