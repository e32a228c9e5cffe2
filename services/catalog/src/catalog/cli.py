"""Operator commands: `encore-catalog backfill-media` gives every track without renditions
for its current upload a media job (SPEC §7), with a progress bar and a summary;
`encore-catalog backfill-artwork` makes the artwork and cover sizes images uploaded before
sizes existed lack (`catalog.service.artwork_backfill`).

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

from catalog.service.artwork_backfill import backfill_artwork
from catalog.service.media_backfill import backfill
from catalog.settings import CatalogSettings
from catalog.storage import MediaStorage
from servicekit.db import make_engine, make_sessionmaker


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
