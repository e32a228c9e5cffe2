"""Finding a track sharing may link to: the replica first, catalog's API on a miss."""

from __future__ import annotations

from contracts.errors import ErrorCode
from contracts.events import TrackSnapshot
from servicekit.errors import ApiError
from sharing.context import SharingContext
from sharing.db import replica


async def find_track(ctx: SharingContext, track_id: str) -> tuple[TrackSnapshot | None, bool]:
    """(snapshot, deleted). A track the replica has not heard of yet is fetched from
    catalog and stored, so a link can be made the moment after an upload."""
    async with ctx.sessions() as session:
        known = await replica.load(session, track_id)
    if known is not None:
        return known
    try:
        data = await ctx.catalog.json("GET", f"/internal/tracks/{track_id}/snapshot")
    except ApiError as exc:
        if exc.code is ErrorCode.RESOURCE_NOT_FOUND:
            return None, False
        raise
    snapshot = TrackSnapshot.model_validate(data)
    async with ctx.sessions() as session, session.begin():
        await replica.upsert_snapshot(session, snapshot)
    return snapshot, False
