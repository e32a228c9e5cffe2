"""Packs (Swayzio packs, Aitronos collections): an owner's ordered tracks, made to be sent."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import Parameter

from catalog.context import CatalogContext
from catalog.db import packs as repo
from catalog.db import tracks as tracks_repo
from catalog.db.tracks import public_track
from catalog.events.publish import emit
from contracts import ids
from contracts.api.catalog import CreatePack, DeletedPack, PackPage, PackTracks, UpdatePack
from contracts.dto import PackView
from contracts.errors import ErrorCode
from contracts.events import PackChanged
from servicekit.errors import ApiError, not_found, validation_error
from servicekit.internal import actor_of


async def _check_tracks(session: Any, track_ids: list[str], org_id: str, owner_id: str) -> None:
    """Only the owner's own tracks in this org can go in a pack; name the others."""
    if len(set(track_ids)) != len(track_ids):
        raise validation_error("track_ids repeats an id", {"track_ids": "each id once"})
    found = await tracks_repo.get_tracks(session, track_ids)
    offending = [
        t
        for t in track_ids
        if t not in found or found[t].owner_id != owner_id or found[t].organization_id != org_id
    ]
    if offending:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            "only your own tracks can be added to a pack",
            details={"fields": {"track_ids": "not your tracks"}, "track_ids": offending},
        )


def _changed(row: Any, action: str, track_ids: list[str]) -> PackChanged:
    return PackChanged(
        action=action,
        pack_id=row.id,
        organization_id=row.organization_id,
        owner_id=row.owner_id,
        title=row.title,
        description=row.description,
        track_ids=track_ids,
        updated_at=row.updated_at,
    )


class PacksController(Controller):
    path = "/internal/orgs/{org_id:str}/packs"

    async def _owned(
        self, session: Any, pack_id: str, org_id: str, owner_id: str, *, lock: bool = False
    ) -> Any:
        row = await repo.get_pack(session, pack_id, lock=lock)
        if row is None or row.organization_id != org_id or row.owner_id != owner_id:
            raise not_found("pack", pack_id=pack_id)
        return row

    async def _view(self, session: Any, row: Any, ctx: CatalogContext) -> PackView:
        track_rows = await repo.pack_track_rows(session, row.id)
        return PackView(
            id=row.id,
            organization_id=row.organization_id,
            title=row.title,
            description=row.description,
            track_ids=[t.id for t in track_rows],
            tracks=[public_track(t, ctx.settings) for t in track_rows],
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def _commit_change(
        self, ctx: CatalogContext, session: Any, row: Any, action: str
    ) -> PackView:
        view = await self._view(session, row, ctx)
        await emit(ctx, session, _changed(row, action, view.track_ids))
        return view

    async def _reorder(
        self, ctx: CatalogContext, session: Any, pack_id: str, track_ids: list[str]
    ) -> PackView:
        """Store the pack's new track list, touch the pack and announce it."""
        await repo.set_order(session, pack_id, track_ids)
        row = await repo.update_pack(session, pack_id, {})
        return await self._commit_change(ctx, session, row, "updated")

    @post("/", status_code=201)
    async def create(
        self, request: Request[Any, Any, Any], org_id: str, data: CreatePack, ctx: CatalogContext
    ) -> PackView:
        owner_id = actor_of(request).require_user()
        async with ctx.sessions() as session, session.begin():
            await _check_tracks(session, data.track_ids, org_id, owner_id)
            row = await repo.insert_pack(
                session,
                {
                    "id": ids.new_pack_id(),
                    "organization_id": org_id,
                    "owner_id": owner_id,
                    "title": data.title.strip(),
                    "description": (data.description or "").strip() or None,
                },
            )
            await repo.set_order(session, row.id, data.track_ids)
            view = await self._commit_change(ctx, session, row, "created")
        return view

    @get("/")
    async def list_packs(
        self,
        org_id: str,
        ctx: CatalogContext,
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0),
    ) -> PackPage:
        async with ctx.sessions() as session:
            rows, total = await repo.list_packs(session, org_id, limit, offset)
            track_ids = await repo.track_ids_of(session, [r.id for r in rows])
        items = [
            PackView(
                id=r.id,
                organization_id=r.organization_id,
                title=r.title,
                description=r.description,
                track_ids=track_ids[r.id],
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
            for r in rows
        ]
        return PackPage(items=items, total=total, limit=limit, offset=offset)

    @get("/{pack_id:str}")
    async def get_pack(self, org_id: str, pack_id: str, ctx: CatalogContext) -> PackView:
        async with ctx.sessions() as session:
            row = await repo.get_pack(session, pack_id)
            if row is None or row.organization_id != org_id:
                raise not_found("pack", pack_id=pack_id)
            return await self._view(session, row, ctx)

    @patch("/{pack_id:str}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        pack_id: str,
        data: UpdatePack,
        ctx: CatalogContext,
    ) -> PackView:
        owner_id = actor_of(request).require_user()
        async with ctx.sessions() as session, session.begin():
            await self._owned(session, pack_id, org_id, owner_id, lock=True)
            values: dict[str, Any] = {}
            if data.title is not None:
                values["title"] = data.title.strip()
            if "description" in data.model_fields_set:
                values["description"] = (data.description or "").strip() or None
            row = await repo.update_pack(session, pack_id, values)
            view = await self._commit_change(ctx, session, row, "updated")
        return view

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
        owner_id = actor_of(request).require_user()
        async with ctx.sessions() as session, session.begin():
            await self._owned(session, pack_id, org_id, owner_id, lock=True)
            await _check_tracks(session, data.track_ids, org_id, owner_id)
            current = (await repo.track_ids_of(session, [pack_id]))[pack_id]
            view = await self._reorder(
                ctx, session, pack_id, current + [t for t in data.track_ids if t not in current]
            )
        return view

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
        owner_id = actor_of(request).require_user()
        async with ctx.sessions() as session, session.begin():
            await self._owned(session, pack_id, org_id, owner_id, lock=True)
            current = (await repo.track_ids_of(session, [pack_id]))[pack_id]
            if sorted(data.track_ids) != sorted(current) or len(set(data.track_ids)) != len(
                data.track_ids
            ):
                raise ApiError(
                    ErrorCode.VALIDATION_ERROR,
                    "a reorder lists exactly the pack's tracks, each once",
                    details={
                        "fields": {"track_ids": "must be a permutation of the pack's tracks"},
                        "missing": [t for t in current if t not in data.track_ids],
                        "unexpected": [t for t in data.track_ids if t not in current],
                    },
                )
            view = await self._reorder(ctx, session, pack_id, data.track_ids)
        return view

    @delete("/{pack_id:str}/tracks/{track_id:str}", status_code=200)
    async def remove_track(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        pack_id: str,
        track_id: str,
        ctx: CatalogContext,
    ) -> PackView:
        owner_id = actor_of(request).require_user()
        async with ctx.sessions() as session, session.begin():
            await self._owned(session, pack_id, org_id, owner_id, lock=True)
            current = (await repo.track_ids_of(session, [pack_id]))[pack_id]
            if track_id not in current:
                raise not_found("track in this pack", track_id=track_id)
            view = await self._reorder(ctx, session, pack_id, [t for t in current if t != track_id])
        return view

    @delete("/{pack_id:str}", status_code=200)
    async def delete_pack(
        self, request: Request[Any, Any, Any], org_id: str, pack_id: str, ctx: CatalogContext
    ) -> DeletedPack:
        owner_id = actor_of(request).require_user()
        async with ctx.sessions() as session, session.begin():
            row = await self._owned(session, pack_id, org_id, owner_id, lock=True)
            await emit(ctx, session, _changed(row, "deleted", []))
            await repo.delete_pack(session, pack_id)
        return DeletedPack(id=pack_id, deleted=True)


class PackSnapshotController(Controller):
    """For sharing's read-through replica: a pack by id, with its ordered track ids."""

    path = "/internal/packs"

    @get("/{pack_id:str}/snapshot")
    async def snapshot(self, pack_id: str, ctx: CatalogContext) -> PackChanged:
        async with ctx.sessions() as session:
            row = await repo.get_pack(session, pack_id)
            if row is None:
                raise not_found("pack", pack_id=pack_id)
            track_ids = (await repo.track_ids_of(session, [pack_id]))[pack_id]
        return _changed(row, "updated", track_ids)
