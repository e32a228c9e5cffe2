"""Packs (Swayzio packs, Aitronos collections): an owner's ordered tracks, made to be sent.
Every change touches the pack (its version) and announces it with the whole track list."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.context import CatalogContext
from catalog.db import packs as repo
from catalog.db import tracks as tracks_repo
from catalog.domain.track_lists import appended, require_packable, require_permutation
from catalog.service.events import emit
from catalog.service.views import pack_changed, pack_view, public_track
from contracts import ids
from contracts.api.catalog import CreatePack, DeletedPack, PackPage, UpdatePack
from contracts.dto import PackView
from contracts.events import PackChanged
from servicekit.errors import not_found
from servicekit.internal import Actor


async def _owned(
    session: AsyncSession, pack_id: str, org_id: str, owner_id: str, *, lock: bool = False
) -> Any:
    row = await repo.get_pack(session, pack_id, lock=lock)
    if row is None or row.organization_id != org_id or row.owner_id != owner_id:
        raise not_found("pack", pack_id=pack_id)
    return row


async def _check_tracks(
    session: AsyncSession, track_ids: list[str], org_id: str, owner_id: str
) -> None:
    found = await tracks_repo.get_tracks(session, track_ids)
    require_packable(track_ids, found, org_id, owner_id)


async def _view(ctx: CatalogContext, session: AsyncSession, row: Any) -> PackView:
    track_rows = await repo.pack_track_rows(session, row.id)
    return pack_view(
        row, [t.id for t in track_rows], [public_track(t, ctx.settings) for t in track_rows]
    )


async def _announce(ctx: CatalogContext, session: AsyncSession, row: Any, action: str) -> PackView:
    view = await _view(ctx, session, row)
    await emit(ctx, session, pack_changed(row, action, view.track_ids))
    return view


async def _store_order(
    ctx: CatalogContext, session: AsyncSession, pack_id: str, track_ids: list[str]
) -> PackView:
    """Store the pack's new track list, touch the pack and announce it."""
    await repo.set_order(session, pack_id, track_ids)
    row = await repo.update_pack(session, pack_id, {})
    return await _announce(ctx, session, row, "updated")


async def _current_order(session: AsyncSession, pack_id: str) -> list[str]:
    return (await repo.track_ids_of(session, [pack_id]))[pack_id]


async def create(ctx: CatalogContext, org_id: str, actor: Actor, data: CreatePack) -> PackView:
    owner_id = actor.require_user()
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
        return await _announce(ctx, session, row, "created")


async def list_packs(ctx: CatalogContext, org_id: str, limit: int, offset: int) -> PackPage:
    """A page of the organization's packs, each with its track ids (not the tracks)."""
    async with ctx.sessions() as session:
        rows, total = await repo.list_packs(session, org_id, limit, offset)
        track_ids = await repo.track_ids_of(session, [r.id for r in rows])
    items = [pack_view(r, track_ids[r.id]) for r in rows]
    return PackPage(items=items, total=total, limit=limit, offset=offset)


async def get_pack(ctx: CatalogContext, org_id: str, pack_id: str) -> PackView:
    async with ctx.sessions() as session:
        row = await repo.get_pack(session, pack_id)
        if row is None or row.organization_id != org_id:
            raise not_found("pack", pack_id=pack_id)
        return await _view(ctx, session, row)


async def update(
    ctx: CatalogContext, org_id: str, pack_id: str, actor: Actor, data: UpdatePack
) -> PackView:
    owner_id = actor.require_user()
    async with ctx.sessions() as session, session.begin():
        await _owned(session, pack_id, org_id, owner_id, lock=True)
        values: dict[str, Any] = {}
        if data.title is not None:
            values["title"] = data.title.strip()
        if "description" in data.model_fields_set:
            values["description"] = (data.description or "").strip() or None
        row = await repo.update_pack(session, pack_id, values)
        return await _announce(ctx, session, row, "updated")


async def add_tracks(
    ctx: CatalogContext, org_id: str, pack_id: str, actor: Actor, track_ids: list[str]
) -> PackView:
    """Appends, in the given order; tracks already in the pack stay where they are."""
    owner_id = actor.require_user()
    async with ctx.sessions() as session, session.begin():
        await _owned(session, pack_id, org_id, owner_id, lock=True)
        await _check_tracks(session, track_ids, org_id, owner_id)
        current = await _current_order(session, pack_id)
        return await _store_order(ctx, session, pack_id, appended(current, track_ids))


async def reorder(
    ctx: CatalogContext, org_id: str, pack_id: str, actor: Actor, track_ids: list[str]
) -> PackView:
    """A new order: exactly the tracks already in the pack, each once."""
    owner_id = actor.require_user()
    async with ctx.sessions() as session, session.begin():
        await _owned(session, pack_id, org_id, owner_id, lock=True)
        require_permutation(await _current_order(session, pack_id), track_ids)
        return await _store_order(ctx, session, pack_id, track_ids)


async def remove_track(
    ctx: CatalogContext, org_id: str, pack_id: str, track_id: str, actor: Actor
) -> PackView:
    owner_id = actor.require_user()
    async with ctx.sessions() as session, session.begin():
        await _owned(session, pack_id, org_id, owner_id, lock=True)
        current = await _current_order(session, pack_id)
        if track_id not in current:
            raise not_found("track in this pack", track_id=track_id)
        return await _store_order(ctx, session, pack_id, [t for t in current if t != track_id])


async def delete(ctx: CatalogContext, org_id: str, pack_id: str, actor: Actor) -> DeletedPack:
    owner_id = actor.require_user()
    async with ctx.sessions() as session, session.begin():
        row = await _owned(session, pack_id, org_id, owner_id, lock=True)
        await emit(ctx, session, pack_changed(row, "deleted", []))
        await repo.delete_pack(session, pack_id)
    return DeletedPack(id=pack_id, deleted=True)


async def snapshot(ctx: CatalogContext, pack_id: str) -> PackChanged:
    """For sharing's read-through replica: a pack by id, with its ordered track ids."""
    async with ctx.sessions() as session:
        row = await repo.get_pack(session, pack_id)
        if row is None:
            raise not_found("pack", pack_id=pack_id)
        track_ids = await _current_order(session, pack_id)
    return pack_changed(row, "updated", track_ids)
