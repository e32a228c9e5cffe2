"""Album persistence: shells, ordering, release, and the public listings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db.models import album_slug_history, albums, tracks


async def create_shell(session: AsyncSession, values: dict[str, Any]) -> tuple[Any, bool]:
    """Insert unless (owner, slug) exists; returns (album, created). Safe under races."""
    inserted = (
        await session.execute(
            insert(albums)
            .values(**values)
            .on_conflict_do_nothing(constraint="uq_albums_owner_slug")
            .returning(albums)
        )
    ).one_or_none()
    if inserted is not None:
        return inserted, True
    existing = (
        await session.execute(
            select(albums).where(
                albums.c.owner_id == values["owner_id"], albums.c.slug == values["slug"]
            )
        )
    ).one()
    return existing, False


async def get_album(session: AsyncSession, album_id: str, *, lock: bool = False) -> Any:
    stmt = select(albums).where(albums.c.id == album_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).one_or_none()


async def by_owner_slug(session: AsyncSession, owner_id: str, slug: str) -> Any:
    return (
        await session.execute(
            select(albums).where(albums.c.owner_id == owner_id, albums.c.slug == slug)
        )
    ).one_or_none()


async def by_handle_slug(session: AsyncSession, handle: str, slug: str) -> Any:
    """The album at this artist's slug, or the one that had it before a title change."""
    current = (
        await session.execute(
            select(albums).where(albums.c.owner_handle == handle, albums.c.slug == slug)
        )
    ).first()
    if current is not None:
        return current
    return (
        await session.execute(
            select(albums)
            .join(album_slug_history, album_slug_history.c.album_id == albums.c.id)
            .where(album_slug_history.c.owner_handle == handle, album_slug_history.c.slug == slug)
        )
    ).first()


async def update_album(session: AsyncSession, album_id: str, values: dict[str, Any]) -> Any:
    return (
        await session.execute(
            update(albums)
            .where(albums.c.id == album_id)
            .values(**values, updated_at=func.now())
            .returning(albums)
        )
    ).one()


async def remember_slug(session: AsyncSession, handle: str, slug: str, album_id: str) -> None:
    stmt = insert(album_slug_history).values(owner_handle=handle, slug=slug, album_id=album_id)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[album_slug_history.c.owner_handle, album_slug_history.c.slug],
            set_={"album_id": album_id},
        )
    )


async def album_tracks(
    session: AsyncSession, album_id: str, *, public_only: bool = False
) -> Sequence[Any]:
    """Tracks in album order: positioned ones first, then the rest by upload time."""
    stmt = select(tracks).where(tracks.c.album_id == album_id)
    if public_only:
        stmt = stmt.where(tracks.c.visibility == "public")
    stmt = stmt.order_by(
        tracks.c.album_position.asc().nulls_last(), tracks.c.created_at, tracks.c.id
    )
    return (await session.execute(stmt)).all()


async def max_position(session: AsyncSession, album_id: str) -> int:
    value = await session.scalar(
        select(func.max(tracks.c.album_position)).where(tracks.c.album_id == album_id)
    )
    return int(value or 0)


async def mark_released(session: AsyncSession, album_id: str) -> Any:
    """Set released_at if it is not set yet; returns the new value, or None if already released."""
    return await session.scalar(
        update(albums)
        .where(albums.c.id == album_id, albums.c.released_at.is_(None))
        .values(released_at=func.now(), updated_at=func.now())
        .returning(albums.c.released_at)
    )


async def public_albums(
    session: AsyncSession, limit: int, offset: int, handle: str | None = None
) -> tuple[Sequence[Any], int]:
    """A page of the albums with at least one public track (empty shells are drafts, never
    listed), newest release first, and how many there are: one join and aggregate, and a
    second statement only for a page past the end (which has no row to carry the total)."""
    listed = albums.join(
        tracks, and_(tracks.c.album_id == albums.c.id, tracks.c.visibility == "public")
    )
    of_artist = [albums.c.owner_handle == handle] if handle is not None else []
    rows = (
        await session.execute(
            select(albums, func.count().label("track_count"), func.count().over().label("total"))
            .select_from(listed)
            .where(*of_artist)
            .group_by(albums.c.id)
            .order_by(
                albums.c.released_at.desc().nulls_last(), albums.c.created_at.desc(), albums.c.id
            )
            .limit(limit)
            .offset(offset)
        )
    ).all()
    if rows or offset == 0:
        return rows, int(rows[0].total) if rows else 0
    total = await session.scalar(
        select(func.count(albums.c.id.distinct())).select_from(listed).where(*of_artist)
    )
    return rows, int(total or 0)


async def delete_album(session: AsyncSession, album_id: str) -> None:
    await session.execute(delete(albums).where(albums.c.id == album_id))


async def org_albums(
    session: AsyncSession, organization_id: str, limit: int, offset: int
) -> tuple[Sequence[Any], int]:
    """One page of an organization's albums, drafts included, newest first, with their
    track counts, and how many albums it has in all."""
    where = albums.c.organization_id == organization_id
    total = await session.scalar(select(func.count()).select_from(albums).where(where))
    stmt = (
        select(albums, func.count(tracks.c.id).label("track_count"))
        .outerjoin(tracks, tracks.c.album_id == albums.c.id)
        .where(where)
        .group_by(albums.c.id)
        .order_by(albums.c.created_at.desc(), albums.c.id)
        .limit(limit)
        .offset(offset)
    )
    return (await session.execute(stmt)).all(), int(total or 0)
