"""Rows with an image but no recorded sizes (uploaded before sizes existed), for
`service/artwork_backfill.py`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db.models import albums, tracks


@dataclass(frozen=True)
class Subject:
    """One kind of row with an image: where its original and its sizes are recorded."""

    name: str
    table: Table
    image_key: Column[Any]
    sizes: Column[Any]


TRACKS = Subject("tracks", tracks, tracks.c.artwork_key, tracks.c.artwork_sizes)
ALBUMS = Subject("albums", albums, albums.c.cover_key, albums.c.cover_sizes)
SUBJECTS = (TRACKS, ALBUMS)


async def wanting_sizes(session: AsyncSession, subject: Subject) -> Sequence[tuple[str, str]]:
    """(id, image key) of every row of this kind with an image and no sizes."""
    rows = (
        await session.execute(
            select(subject.table.c.id, subject.image_key)
            .where(subject.image_key.is_not(None), subject.sizes.is_(None))
            .order_by(subject.table.c.id)
        )
    ).all()
    return [(row[0], row[1]) for row in rows]


async def record_sizes(
    session: AsyncSession, subject: Subject, row_id: str, image_key: str, sizes: Any
) -> bool:
    """Record the sizes if the row still has this image and still no sizes; whether it did."""
    written = await session.execute(
        update(subject.table)
        .where(
            subject.table.c.id == row_id,
            subject.image_key == image_key,
            subject.sizes.is_(None),
        )
        .values({subject.sizes: sizes})
    )
    return bool(written.rowcount == 1)  # type: ignore[attr-defined]
