"""What sharing may link to, from its replicas; catalog's API is read once on a miss, so a
link can be made the moment after an upload, before the event has arrived."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from contracts.errors import ErrorCode
from contracts.events import PackChanged, SplitSheetSnapshot, TrackSnapshot
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


def now() -> datetime:
    return datetime.now(UTC)
