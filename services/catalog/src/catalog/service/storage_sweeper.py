"""Removes objects scheduled in `storage_deletions`, retrying until storage confirms.

Deleting a track commits the row removal and the schedule together; this loop then deletes
the objects (S3 deletes are idempotent), so a crash or a storage outage only delays it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import Counter, Gauge
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.db.models import storage_deletions
from catalog.storage import MediaStorage

log = logging.getLogger(__name__)

REMOVED = Counter("encore_storage_objects_removed_total", "Objects removed from storage")
PENDING = Gauge("encore_storage_removals_pending", "Objects waiting to be removed")


class StorageSweeper:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], storage: MediaStorage, interval: float
    ) -> None:
        self.sessions = sessions
        self.storage = storage
        self.interval = interval
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def sweep(self, batch: int = 100) -> int:
        async with self.sessions() as session, session.begin():
            keys = list(
                (
                    await session.execute(
                        select(storage_deletions.c.key)
                        .order_by(storage_deletions.c.requested_at)
                        .limit(batch)
                        .with_for_update(skip_locked=True)
                    )
                ).scalars()
            )
            done = []
            for key in keys:
                try:
                    await self.storage.remove(key)
                    done.append(key)
                except Exception as exc:
                    log.warning("could not remove %s yet: %r", key, exc)
            if done:
                await session.execute(
                    delete(storage_deletions).where(storage_deletions.c.key.in_(done))
                )
            failed = [k for k in keys if k not in done]
            if failed:
                await session.execute(
                    update(storage_deletions)
                    .where(storage_deletions.c.key.in_(failed))
                    .values(attempts=storage_deletions.c.attempts + 1)
                )
            PENDING.set(
                float(
                    await session.scalar(select(func.count()).select_from(storage_deletions)) or 0
                )
            )
        REMOVED.inc(len(done))
        return len(done)

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("storage sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.interval)
            self._wakeup.clear()
