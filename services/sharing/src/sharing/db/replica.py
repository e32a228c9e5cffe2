"""Sharing's replicas of catalog data: upserts from `catalog.lifecycle`, plain reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import PackChanged, SplitSheetSnapshot, TrackSnapshot
from sharing.db.models import pack_replica, split_sheet_replica, track_replica


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


async def load_tracks(
    session: AsyncSession, track_ids: Sequence[str]
) -> dict[str, tuple[TrackSnapshot | None, bool]]:
    """{track_id: (snapshot, deleted)} for the tracks the replica knows."""
    if not track_ids:
        return {}
    rows = (
        await session.execute(
            select(
                track_replica.c.track_id, track_replica.c.snapshot, track_replica.c.deleted_at
            ).where(track_replica.c.track_id.in_(list(track_ids)))
        )
    ).all()
    return {
        row.track_id: (None, True)
        if row.deleted_at is not None
        else (TrackSnapshot.model_validate_json(row.snapshot), False)
        for row in rows
    }


async def upsert_pack(session: AsyncSession, pack: PackChanged) -> None:
    """Apply a pack's state unless the replica holds a newer version or the pack is deleted.

    Idempotent by version: the same event twice, or an older one after a newer (a replay,
    a redelivery, the read-through fetch racing the consumer), changes nothing. An event
    without a version applies only to a row that has none either."""
    values = {
        "pack_id": pack.pack_id,
        "organization_id": pack.organization_id,
        "owner_id": pack.owner_id,
        "title": pack.title,
        "description": pack.description,
        "track_ids": pack.track_ids,
        "deleted_at": None,
        "source_updated_at": pack.updated_at,
    }
    stmt = insert(pack_replica).values(**values)
    held = pack_replica.c.source_updated_at
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[pack_replica.c.pack_id],
            set_={k: stmt.excluded[k] for k in values if k != "pack_id"},
            where=pack_replica.c.deleted_at.is_(None)
            & (held.is_(None) | (held <= stmt.excluded.source_updated_at)),
        )
    )


async def delete_pack(session: AsyncSession, pack: PackChanged, at: datetime) -> None:
    stmt = insert(pack_replica).values(
        pack_id=pack.pack_id,
        organization_id=pack.organization_id,
        owner_id=pack.owner_id,
        title=pack.title,
        track_ids=[],
        deleted_at=at,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[pack_replica.c.pack_id], set_={"deleted_at": at, "track_ids": []}
        )
    )


async def load_pack(session: AsyncSession, pack_id: str) -> Any:
    return (
        await session.execute(select(pack_replica).where(pack_replica.c.pack_id == pack_id))
    ).one_or_none()


async def upsert_split_sheet(session: AsyncSession, sheet: SplitSheetSnapshot) -> None:
    values = {
        "track_id": sheet.track_id,
        "split_sheet_id": sheet.split_sheet_id,
        "snapshot": sheet.model_dump_json(),
        "source_updated_at": sheet.updated_at,
    }
    stmt = insert(split_sheet_replica).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[split_sheet_replica.c.track_id],
            set_={k: stmt.excluded[k] for k in values if k != "track_id"},
            where=split_sheet_replica.c.source_updated_at <= stmt.excluded.source_updated_at,
        )
    )


async def load_split_sheet(session: AsyncSession, track_id: str) -> SplitSheetSnapshot | None:
    raw = await session.scalar(
        select(split_sheet_replica.c.snapshot).where(split_sheet_replica.c.track_id == track_id)
    )
    return SplitSheetSnapshot.model_validate_json(raw) if raw else None
