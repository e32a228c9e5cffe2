"""Track persistence (the views built from a row are in service/views.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db.models import storage_deletions, tracks
from catalog.domain import artwork
from catalog.domain.media_assets import media_keys


async def insert_track(session: AsyncSession, values: dict[str, Any]) -> Any:
    return (await session.execute(insert(tracks).values(**values).returning(tracks))).one()


async def get_track(session: AsyncSession, track_id: str, *, lock: bool = False) -> Any:
    stmt = select(tracks).where(tracks.c.id == track_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).one_or_none()


async def get_tracks(session: AsyncSession, track_ids: Sequence[str]) -> dict[str, Any]:
    if not track_ids:
        return {}
    rows = (await session.execute(select(tracks).where(tracks.c.id.in_(list(track_ids))))).all()
    return {row.id: row for row in rows}


async def update_track(session: AsyncSession, track_id: str, values: dict[str, Any]) -> Any:
    return (
        await session.execute(
            update(tracks)
            .where(tracks.c.id == track_id)
            .values(**values, updated_at=func.now())
            .returning(tracks)
        )
    ).one()


async def delete_track(session: AsyncSession, row: Any) -> None:
    """Delete the row and schedule its objects for removal in the same transaction."""
    await session.execute(delete(tracks).where(tracks.c.id == row.id))
    await schedule_removal(
        session,
        row.audio_key,
        row.artwork_key,
        *media_keys(row.media),
        *artwork.keys(row.artwork_sizes),
    )


async def schedule_removal(session: AsyncSession, *keys: str | None) -> None:
    wanted = [{"key": k} for k in keys if k]
    if wanted:
        await session.execute(pg_insert(storage_deletions).values(wanted).on_conflict_do_nothing())


async def unschedule_removal(session: AsyncSession, *keys: str) -> None:
    """Keys a track now references must not be removed, whoever scheduled them."""
    if keys:
        await session.execute(delete(storage_deletions).where(storage_deletions.c.key.in_(keys)))


async def list_org_tracks(
    session: AsyncSession, organization_id: str, limit: int, offset: int
) -> tuple[Sequence[Any], int]:
    where = tracks.c.organization_id == organization_id
    total = await session.scalar(select(func.count()).select_from(tracks).where(where))
    rows = (
        await session.execute(
            select(tracks)
            .where(where)
            .order_by(tracks.c.created_at.desc(), tracks.c.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return rows, int(total or 0)


async def mark_processing(
    session: AsyncSession, track_id: str, audio_key: str, *, restart: bool
) -> None:
    """The track's job for `audio_key` is out; `restart` (a new upload version, not a
    retry of the same one) also resets its state and attempt count."""
    values: dict[str, Any] = {"processing_enqueued_at": func.now()}
    if restart:
        values.update(processing_state="processing", processing_reason=None, processing_attempts=0)
    await session.execute(
        update(tracks)
        .where(tracks.c.id == track_id, tracks.c.audio_key == audio_key)
        .values(**values)
    )


def _wanting_media(retry_failed: bool) -> Any:
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


async def count_tracks(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(tracks)) or 0)


async def count_wanting_media(session: AsyncSession, retry_failed: bool) -> int:
    stmt = select(func.count()).select_from(tracks).where(_wanting_media(retry_failed))
    return int(await session.scalar(stmt) or 0)


async def lock_wanting_media(
    session: AsyncSession, retry_failed: bool, limit: int
) -> Sequence[Any]:
    """(id, audio_key) of up to `limit` tracks wanting a media job, locked; rows another
    transaction holds are skipped."""
    return (
        await session.execute(
            select(tracks.c.id, tracks.c.audio_key)
            .where(_wanting_media(retry_failed))
            .order_by(tracks.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()


async def count_processing_attempt(
    session: AsyncSession, track_id: str, audio_key: str
) -> int | None:
    """One more attempt at the job for `audio_key`; the attempts so far, or None when the
    track moved on (deleted, a newer upload, or no longer processing)."""
    attempts = await session.scalar(
        update(tracks)
        .where(
            tracks.c.id == track_id,
            tracks.c.audio_key == audio_key,
            tracks.c.processing_state == "processing",
        )
        .values(processing_attempts=tracks.c.processing_attempts + 1)
        .returning(tracks.c.processing_attempts)
    )
    return None if attempts is None else int(attempts)


async def refund_processing_attempt(session: AsyncSession, track_id: str, audio_key: str) -> None:
    """Give back an attempt an outage used (never below zero)."""
    await session.execute(
        update(tracks)
        .where(
            tracks.c.id == track_id,
            tracks.c.audio_key == audio_key,
            tracks.c.processing_state == "processing",
            tracks.c.processing_attempts > 0,
        )
        .values(processing_attempts=tracks.c.processing_attempts - 1)
    )


async def lock_stuck_processing(
    session: AsyncSession, older_than_seconds: float, limit: int
) -> Sequence[Any]:
    """(id, audio_key) of up to `limit` tracks `processing` whose job went out more than
    `older_than_seconds` ago, locked; rows another transaction holds are skipped."""
    return (
        await session.execute(
            select(tracks.c.id, tracks.c.audio_key)
            .where(
                tracks.c.processing_state == "processing",
                tracks.c.processing_enqueued_at
                < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, older_than_seconds),
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
