"""The schedule of storage objects to remove (`storage_deletions`), as the sweeper reads it.

Scheduling and unscheduling happen with the track changes that cause them (db/tracks.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db.models import storage_deletions


async def lock_due(session: AsyncSession, limit: int) -> list[str]:
    """Up to `limit` scheduled keys, oldest first, locked; keys another sweeper holds are
    skipped."""
    return list(
        (
            await session.execute(
                select(storage_deletions.c.key)
                .order_by(storage_deletions.c.requested_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
    )


async def forget(session: AsyncSession, keys: Sequence[str]) -> None:
    """Storage confirmed these are gone."""
    if keys:
        await session.execute(delete(storage_deletions).where(storage_deletions.c.key.in_(keys)))


async def count_failed_attempt(session: AsyncSession, keys: Sequence[str]) -> None:
    if keys:
        await session.execute(
            update(storage_deletions)
            .where(storage_deletions.c.key.in_(keys))
            .values(attempts=storage_deletions.c.attempts + 1)
        )


async def count_pending(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(storage_deletions)) or 0)
