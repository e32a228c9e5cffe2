"""Artwork sizes for images uploaded before sizes existed (`encore-catalog backfill-artwork`).

Migration 0004 left those rows with NULL `tracks.artwork_sizes` / `albums.cover_sizes`, so
their payloads carry no sizes. This makes the sizes from the stored original, exactly as an
upload does (`artwork.render_and_store`), and records them.

Idempotent: only rows with an image and no sizes are looked at, and a row is written only if,
under its lock, it still has the same image and still no sizes (an upload or another run in
between wins; this run's objects are then removed at once). Each run writes under a fresh
version directory, so two runs never share object keys. An image that cannot be read is
counted and named in the summary and left as it is; running again tries it again.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from minio.error import S3Error
from rich.progress import Progress
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.db import artwork_sizes as repo
from catalog.db.artwork_sizes import Subject
from catalog.media import MediaRejected
from catalog.service import artwork
from catalog.storage import MediaStorage

# where each kind's sizes are written: over the row id and a fresh version directory
PREFIXES = {"tracks": "tracks/{id}/artwork/{v}/", "albums": "albums/{id}/artwork/{v}/"}


@dataclass
class Summary:
    tracks: int = 0  # rows found without sizes
    albums: int = 0
    sized: int = 0  # rows that got their sizes in this run
    skipped: int = 0  # changed while this run worked on them (an upload or another run won)
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "tracks": self.tracks,
            "albums": self.albums,
            "sized": self.sized,
            "skipped": self.skipped,
            "failed": len(self.failed),
            "failures": self.failed,
        }


async def backfill_artwork(
    sessions: async_sessionmaker[AsyncSession], storage: MediaStorage, show: bool = True
) -> Summary:
    summary = Summary()
    pending: list[tuple[Subject, Sequence[tuple[str, str]]]] = []
    async with sessions() as session:
        for subject in repo.SUBJECTS:
            rows = await repo.wanting_sizes(session, subject)
            setattr(summary, subject.name, len(rows))
            pending.append((subject, rows))
    with Progress(disable=not show) as progress:
        bar = progress.add_task("artwork sizes", total=summary.tracks + summary.albums)
        for subject, rows in pending:
            for row_id, image_key in rows:
                await _size_one(sessions, storage, subject, row_id, image_key, summary)
                progress.update(bar, advance=1)
    return summary


async def _size_one(
    sessions: async_sessionmaker[AsyncSession],
    storage: MediaStorage,
    subject: Subject,
    row_id: str,
    image_key: str,
    summary: Summary,
) -> None:
    try:
        data = await _read_object(storage, image_key)
    except S3Error as exc:
        if exc.code != "NoSuchKey":
            raise
        summary.failed.append({"id": row_id, "reason": "The original image is missing."})
        return
    prefix = PREFIXES[subject.name].format(id=row_id, v=secrets.token_hex(8))
    try:
        sizes = await artwork.render_and_store(storage, data, prefix)
    except MediaRejected as exc:
        summary.failed.append({"id": row_id, "reason": exc.reason})
        return
    try:
        async with sessions() as session, session.begin():
            recorded = await repo.record_sizes(session, subject, row_id, image_key, sizes)
    except BaseException:
        await artwork.remove_all(storage, sizes)
        raise
    if recorded:
        summary.sized += 1
    else:
        await artwork.remove_all(storage, sizes)
        summary.skipped += 1


async def _read_object(storage: MediaStorage, key: str) -> bytes:
    """The whole original: uploads are bounded by ENCORE_MAX_IMAGE_BYTES (10 MB)."""

    def read() -> bytes:
        response = storage.client.get_object(storage.bucket, key)
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()

    return await asyncio.to_thread(read)
