"""Pack persistence: an owner's ordered set of tracks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db.models import pack_tracks, packs, tracks


async def insert_pack(session: AsyncSession, values: dict[str, Any]) -> Any:
    return (await session.execute(insert(packs).values(**values).returning(packs))).one()


async def get_pack(session: AsyncSession, pack_id: str, *, lock: bool = False) -> Any:
    stmt = select(packs).where(packs.c.id == pack_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).one_or_none()


async def update_pack(session: AsyncSession, pack_id: str, values: dict[str, Any]) -> Any:
    return (
        await session.execute(
            update(packs)
            .where(packs.c.id == pack_id)
            # the clock, not the transaction's start: the pack row is locked by now, so the
            # next change of this pack always gets a later version (PackChanged.updated_at)
            .values(**values, updated_at=func.clock_timestamp())
            .returning(packs)
        )
    ).one()


async def delete_pack(session: AsyncSession, pack_id: str) -> None:
    await session.execute(delete(packs).where(packs.c.id == pack_id))


async def list_packs(
    session: AsyncSession, organization_id: str, limit: int, offset: int
) -> tuple[Sequence[Any], int]:
    where = packs.c.organization_id == organization_id
    total = await session.scalar(select(func.count()).select_from(packs).where(where))
    rows = (
        await session.execute(
            select(packs)
            .where(where)
            .order_by(packs.c.created_at.desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return rows, int(total or 0)


async def pack_track_rows(session: AsyncSession, pack_id: str) -> Sequence[Any]:
    stmt = (
        select(tracks)
        .join(pack_tracks, pack_tracks.c.track_id == tracks.c.id)
        .where(pack_tracks.c.pack_id == pack_id)
        .order_by(pack_tracks.c.position)
    )
    return (await session.execute(stmt)).all()


async def track_ids_of(session: AsyncSession, pack_ids: Sequence[str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {pid: [] for pid in pack_ids}
    if not pack_ids:
        return result
    rows = (
        await session.execute(
            select(pack_tracks.c.pack_id, pack_tracks.c.track_id)
            .where(pack_tracks.c.pack_id.in_(list(pack_ids)))
            .order_by(pack_tracks.c.pack_id, pack_tracks.c.position)
        )
    ).all()
    for row in rows:
        result[row.pack_id].append(row.track_id)
    return result


async def set_order(session: AsyncSession, pack_id: str, track_ids: Sequence[str]) -> None:
    """Replace the pack's track list with exactly these tracks, in this order."""
    await session.execute(delete(pack_tracks).where(pack_tracks.c.pack_id == pack_id))
    if track_ids:
        await session.execute(
            insert(pack_tracks),
            [
                {"pack_id": pack_id, "track_id": tid, "position": i}
                for i, tid in enumerate(track_ids, start=1)
            ],
        )
