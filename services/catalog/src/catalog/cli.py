"""Operator commands: `encore-catalog backfill-media` gives every track without renditions
for its current upload a media job (SPEC §7), with a progress bar and a summary;
`encore-catalog backfill-artwork` makes the artwork and cover sizes images uploaded before
sizes existed lack (`catalog.artwork_backfill`).

Idempotent: a track already `ready` for its current upload is skipped, and so is one whose
job is already out (the worker's stuck-track sweeper re-enqueues those past the deadline);
`--retry-failed` also re-enqueues failed tracks. Jobs go through the outbox, so the catalog
service's relay publishes them; the command needs only the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from rich.progress import Progress
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog import media_jobs
from catalog.artwork_backfill import backfill_artwork
from catalog.db.models import outbox as outbox_table
from catalog.db.models import tracks
from catalog.settings import CatalogSettings
from catalog.storage import MediaStorage
from servicekit.db import make_engine, make_sessionmaker
from servicekit.outbox import Outbox

BATCH = 200


def wanting(retry_failed: bool) -> Any:
    """Tracks whose current upload has no finished processing and no job out."""
    never_enqueued = (tracks.c.processing_state == "processing") & (
        tracks.c.processing_enqueued_at.is_(None)
    )
    stale = (tracks.c.processing_state != "processing") & (
        tracks.c.processed_audio_key.is_distinct_from(tracks.c.audio_key)
    )
    conditions: list[Any] = [never_enqueued, stale]
    if retry_failed:
        conditions.append(tracks.c.processing_state == "failed")
    return or_(*conditions)


async def backfill(
    sessions: async_sessionmaker[AsyncSession], retry_failed: bool = False, show: bool = True
) -> dict[str, int]:
    outbox = Outbox(outbox_table)
    async with sessions() as session:
        total = await session.scalar(
            select(func.count()).select_from(tracks).where(wanting(retry_failed))
        )
        everything = await session.scalar(select(func.count()).select_from(tracks))
    enqueued = 0
    with Progress(disable=not show) as progress:
        bar = progress.add_task("enqueuing media jobs", total=total or 0)
        while True:
            async with sessions() as session, session.begin():
                rows = (
                    await session.execute(
                        select(tracks.c.id, tracks.c.audio_key)
                        .where(wanting(retry_failed))
                        .order_by(tracks.c.id)
                        .limit(BATCH)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
                for row in rows:
                    await media_jobs.enqueue(outbox, session, row.id, row.audio_key, "backfill")
            if not rows:
                break
            enqueued += len(rows)
            progress.update(bar, advance=len(rows))
    return {"tracks": int(everything or 0), "enqueued": enqueued}


async def _backfill(settings: CatalogSettings, retry_failed: bool, show: bool) -> dict[str, int]:
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        return await backfill(make_sessionmaker(engine), retry_failed, show)
    finally:
        await engine.dispose()


async def _backfill_artwork(settings: CatalogSettings, show: bool) -> dict[str, Any]:
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        summary = await backfill_artwork(make_sessionmaker(engine), MediaStorage(settings), show)
    finally:
        await engine.dispose()
    return summary.as_json()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="encore-catalog", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("backfill-media", help="enqueue media jobs for unprocessed tracks")
    cmd.add_argument("--retry-failed", action="store_true", help="also re-enqueue failed tracks")
    cmd.add_argument("--quiet", action="store_true", help="no progress bar")
    art = commands.add_parser(
        "backfill-artwork", help="make missing artwork and cover sizes from the originals"
    )
    art.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    summary: dict[str, Any]
    if args.command == "backfill-artwork":
        summary = asyncio.run(_backfill_artwork(CatalogSettings(), not args.quiet))
    else:
        summary = asyncio.run(_backfill(CatalogSettings(), args.retry_failed, not args.quiet))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
