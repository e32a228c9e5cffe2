"""What sharing knows of catalog: its replicas of tracks, packs and split sheets.

Reads come from the replicas; catalog's API is read once on a miss, so a link can be made
the moment after an upload, before the event has arrived. `apply_catalog_event` keeps them
in step with `catalog.lifecycle` (sharing/events/catalog_consumer.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.errors import ErrorCode
from contracts.events import (
    EventEnvelope,
    PackChanged,
    SplitSheetChanged,
    SplitSheetSnapshot,
    TrackChanged,
    TrackDeleted,
    TrackSnapshot,
)
from servicekit.errors import ApiError
from servicekit.upstream import segment
from sharing.context import SharingContext
from sharing.db import replica


async def _fetch(ctx: SharingContext, path: str) -> Any:
    try:
        return await ctx.catalog.json("GET", path)
    except ApiError as exc:
        if exc.code is ErrorCode.RESOURCE_NOT_FOUND:
            return None
        raise


async def find_tracks(
    ctx: SharingContext, track_ids: Sequence[str]
) -> dict[str, tuple[TrackSnapshot | None, bool]]:
    """{track_id: (snapshot, deleted)}; a track catalog does not know is (None, False)."""
    async with ctx.sessions() as session:
        known = await replica.load_tracks(session, track_ids)
    for track_id in [t for t in track_ids if t not in known]:
        data = await _fetch(ctx, f"/internal/tracks/{segment(track_id)}/snapshot")
        if data is None:
            known[track_id] = (None, False)
            continue
        snapshot = TrackSnapshot.model_validate(data)
        async with ctx.sessions() as session, session.begin():
            await replica.upsert_snapshot(session, snapshot)
        known[track_id] = (snapshot, False)
    return known


async def find_track(ctx: SharingContext, track_id: str) -> tuple[TrackSnapshot | None, bool]:
    return (await find_tracks(ctx, [track_id]))[track_id]


async def find_pack(ctx: SharingContext, pack_id: str) -> Any:
    """The replica row of a live pack, or None."""
    async with ctx.sessions() as session:
        row = await replica.load_pack(session, pack_id)
    if row is None:
        data = await _fetch(ctx, f"/internal/packs/{segment(pack_id)}/snapshot")
        if data is None:
            return None
        async with ctx.sessions() as session, session.begin():
            await replica.upsert_pack(session, PackChanged.model_validate(data))
            row = await replica.load_pack(session, pack_id)
    return None if row is None or row.deleted_at is not None else row


async def find_split_sheet(ctx: SharingContext, track_id: str) -> SplitSheetSnapshot | None:
    async with ctx.sessions() as session:
        sheet = await replica.load_split_sheet(session, track_id)
    if sheet is None:
        data = await _fetch(ctx, f"/internal/tracks/{segment(track_id)}/split-sheet/snapshot")
        if data is None:
            return None
        sheet = SplitSheetSnapshot.model_validate(data)
        async with ctx.sessions() as session, session.begin():
            await replica.upsert_split_sheet(session, sheet)
    return sheet


async def apply_catalog_event(
    sessions: async_sessionmaker[AsyncSession], envelope: EventEnvelope[Any]
) -> None:
    """Apply one `catalog.lifecycle` event to the replicas, in one transaction.

    Idempotent by version, not by event id: every upsert keeps the newest version of its
    track (the snapshot's `updated_at`), split sheet (its `updated_at`) or pack
    (`PackChanged.updated_at`), and a deleted track or pack stays deleted
    (sharing/db/replica.py), so a redelivered, replayed or reordered older event changes
    nothing. Other event types are ignored."""
    payload = envelope.payload
    async with sessions() as session, session.begin():
        if isinstance(payload, TrackChanged):
            await replica.upsert_snapshot(session, payload.track)
        elif isinstance(payload, TrackDeleted):
            await replica.mark_deleted(
                session,
                payload.track_id,
                payload.organization_id,
                payload.owner_id,
                payload.deleted_at,
            )
        elif isinstance(payload, PackChanged):
            if payload.action == "deleted":
                await replica.delete_pack(session, payload, envelope.occurred_at)
            else:
                await replica.upsert_pack(session, payload)
        elif isinstance(payload, SplitSheetChanged):
            await replica.upsert_split_sheet(session, payload.split_sheet)
