"""Track persistence and the views built from a row."""

from __future__ import annotations

from typing import Any

from contracts.dto import Artist, PublicTrack, TrackView
from contracts.events import TrackSnapshot
from sqlalchemy import Row, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db.models import tracks


async def insert_track(session: AsyncSession, values: dict[str, Any]) -> Any:
    row = (await session.execute(insert(tracks).values(**values).returning(tracks))).one()
    return row


async def get_track(session: AsyncSession, track_id: str) -> Any:
    return (await session.execute(select(tracks).where(tracks.c.id == track_id))).one_or_none()


async def list_org_tracks(
    session: AsyncSession, organization_id: str, limit: int, offset: int
) -> tuple[list[Row[Any]], int]:
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
    return list(rows), int(total or 0)


def public_track(row: Row[Any]) -> PublicTrack:
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
        created_at=row.created_at,
    )


def track_view(row: Row[Any]) -> TrackView:
    return TrackView(
        **public_track(row).model_dump(),
        organization_id=row.organization_id,
        visibility=row.visibility,
        size_bytes=row.size_bytes,
        checksum_sha256=row.checksum_sha256,
        support_gate=row.support_gate,
        updated_at=row.updated_at,
    )


def snapshot(row: Row[Any]) -> TrackSnapshot:
    return TrackSnapshot(
        track_id=row.id,
        organization_id=row.organization_id,
        owner_id=row.owner_id,
        owner_handle=row.owner_handle,
        owner_display_name=row.owner_display_name,
        title=row.title,
        visibility=row.visibility,
        album_id=row.album_id,
        features=list(row.features or []),
        tags=list(row.tags or []),
        description=row.description,
        has_artwork=row.artwork_key is not None,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        duration_seconds=row.duration_seconds,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
