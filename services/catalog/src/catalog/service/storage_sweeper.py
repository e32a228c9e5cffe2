"""Removes objects scheduled in `storage_deletions`, retrying until storage confirms.

Deleting a track commits the row removal and the schedule together; this loop then deletes
the objects (S3 deletes are idempotent), so a crash or a storage outage only delays it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.db import storage_deletions as repo
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
            keys = await repo.lock_due(session, batch)
            done = []
            for key in keys:
                try:
                    await self.storage.remove(key)
                    done.append(key)
                except Exception as exc:
                    log.warning("could not remove %s yet: %r", key, exc)
            await repo.forget(session, done)
            await repo.count_failed_attempt(session, [k for k in keys if k not in done])
            PENDING.set(float(await repo.count_pending(session)))
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
