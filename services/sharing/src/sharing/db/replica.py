"""The track replica: upserts from catalog events, reads with a read-through fallback."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import TrackSnapshot
from sharing.db.models import track_replica


async def upsert_snapshot(session: AsyncSession, track: TrackSnapshot) -> None:
    """Apply a snapshot unless the replica already holds a newer one (events may reorder)."""
    values = {
        "track_id": track.track_id,
        "organization_id": track.organization_id,
        "owner_id": track.owner_id,
        "visibility": track.visibility,
        "snapshot": track.model_dump_json(),
        "source_updated_at": track.updated_at,
    }
    stmt = insert(track_replica).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[track_replica.c.track_id],
            set_={k: stmt.excluded[k] for k in values if k != "track_id"},
            where=(track_replica.c.source_updated_at <= stmt.excluded.source_updated_at)
            & track_replica.c.deleted_at.is_(None),
        )
    )


async def mark_deleted(
    session: AsyncSession, track_id: str, organization_id: str, owner_id: str, at: datetime
) -> None:
    stmt = insert(track_replica).values(
        track_id=track_id,
        organization_id=organization_id,
        owner_id=owner_id,
        visibility="private",
        snapshot="null",
        source_updated_at=at,
        deleted_at=at,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[track_replica.c.track_id],
            set_={
                "deleted_at": stmt.excluded.deleted_at,
                "source_updated_at": stmt.excluded.source_updated_at,
            },
        )
    )


async def load(session: AsyncSession, track_id: str) -> tuple[TrackSnapshot | None, bool] | None:
    """(snapshot, deleted) if the replica knows the track, else None."""
    row = (
        await session.execute(
            select(track_replica.c.snapshot, track_replica.c.deleted_at).where(
                track_replica.c.track_id == track_id
            )
        )
    ).one_or_none()
    if row is None:
        return None
    if row.deleted_at is not None:
        return None, True
    return TrackSnapshot.model_validate_json(row.snapshot), False
