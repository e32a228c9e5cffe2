"""`encore-catalog backfill-media`: a media job for every track without renditions for its
current upload (SPEC §7), in batches, each batch's jobs written in its transaction.

Idempotent: a track already `ready` for its current upload is skipped, and so is one whose
job is already out (the worker's stuck-track sweeper re-enqueues those past the deadline);
`retry_failed` also re-enqueues failed tracks. Jobs go through the outbox, so the catalog
service's relay publishes them; this needs only the database."""

from __future__ import annotations

from rich.progress import Progress
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.db import tracks as repo
from catalog.db.models import outbox as outbox_table
from catalog.service import media_jobs
from servicekit.outbox import Outbox

BATCH = 200


async def backfill(
    sessions: async_sessionmaker[AsyncSession], retry_failed: bool = False, show: bool = True
) -> dict[str, int]:
    outbox = Outbox(outbox_table)
    async with sessions() as session:
        total = await repo.count_wanting_media(session, retry_failed)
        everything = await repo.count_tracks(session)
    enqueued = 0
    with Progress(disable=not show) as progress:
        bar = progress.add_task("enqueuing media jobs", total=total)
        while True:
            async with sessions() as session, session.begin():
                rows = await repo.lock_wanting_media(session, retry_failed, BATCH)
                for row in rows:
                    await media_jobs.enqueue(outbox, session, row.id, row.audio_key, "backfill")
            if not rows:
                break
            enqueued += len(rows)
            progress.update(bar, advance=len(rows))
    return {"tracks": everything, "enqueued": enqueued}
