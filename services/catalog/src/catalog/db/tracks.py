"""Track persistence and the views built from a row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog import artwork
from catalog.db.models import storage_deletions, tracks
from catalog.settings import CatalogSettings
from catalog.signing import sign_url
from contracts.dto import Artist, PublicTrack, TrackView
from contracts.events import TrackSnapshot


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


def media_keys(media: dict[str, Any] | None) -> list[str]:
    """Every object a worker's output set (the `media` column) references."""
    if not media:
        return []
    keys = [r["key"] for r in media.get("renditions", [])]
    keys += [a["key"] for a in media.get("artwork", [])]
    if media.get("peaks_key"):
        keys.append(media["peaks_key"])
    return keys


def rendition(row: Any, name: str) -> dict[str, Any] | None:
    """The rendition `name` ("aac" | "opus") of a ready track, if it has one."""
    if row.processing_state != "ready" or not row.media:
        return None
    for item in row.media.get("renditions", []):
        if item["name"] == name:
            return dict(item)
    return None


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


def public_track(row: Any, settings: CatalogSettings) -> PublicTrack:
    artwork_url = (
        sign_url(settings, row.id, "artwork", content_type=row.artwork_content_type).url
        if row.artwork_key
        else None
    )
    ready = row.processing_state == "ready" and row.media and row.media.get("peaks_key")
    peaks_url = (
        sign_url(settings, row.id, "peaks", content_type="application/json").url if ready else None
    )
    return PublicTrack(
        id=row.id,
        title=row.title,
        artist=Artist(handle=row.owner_handle, display_name=row.owner_display_name),
        album_id=row.album_id,
        features=list(row.features or []),
        tags=list(row.tags or []),
        description=row.description,
        duration_seconds=row.duration_seconds,
        content_type=row.content_type,
        has_artwork=row.artwork_key is not None,
        artwork_url=artwork_url,
        created_at=row.created_at,
        processing_state=row.processing_state,
        processing_reason=row.processing_reason if row.processing_state == "failed" else None,
        peaks_url=peaks_url,
        artwork_sizes=artwork.payload(settings, row.id, "artwork", row.artwork_sizes)
        if row.artwork_key
        else [],
        loudness_lufs=row.loudness_lufs,
        true_peak_dbtp=row.true_peak_dbtp,
    )


def track_view(row: Any, settings: CatalogSettings) -> TrackView:
    return TrackView(
        **public_track(row, settings).model_dump(),
        organization_id=row.organization_id,
        visibility=row.visibility,
        size_bytes=row.size_bytes,
        checksum_sha256=row.checksum_sha256,
        support_gate=row.support_gate,
        album_position=row.album_position,
        updated_at=row.updated_at,
    )


def snapshot(row: Any) -> TrackSnapshot:
    return TrackSnapshot(
        track_id=row.id,
        organization_id=row.organization_id,
        owner_id=row.owner_id,
        owner_handle=row.owner_handle,
        owner_display_name=row.owner_display_name,
        title=row.title,
        visibility=row.visibility,
        album_id=row.album_id,
        album_position=row.album_position,
        features=list(row.features or []),
        tags=list(row.tags or []),
        description=row.description,
        has_artwork=row.artwork_key is not None,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        duration_seconds=row.duration_seconds,
        created_at=row.created_at,
        updated_at=row.updated_at,
        processing_state=row.processing_state,
        has_peaks=bool(row.processing_state == "ready" and (row.media or {}).get("peaks_key")),
        loudness_lufs=row.loudness_lufs,
        true_peak_dbtp=row.true_peak_dbtp,
        artwork_sizes=artwork.variants(row.artwork_sizes) if row.artwork_key else [],
    )
