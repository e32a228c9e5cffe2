"""Share-link persistence."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Row, Text, any_, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.dto import ShareLinkFilter
from contracts.hashing import hash_secret
from sharing.db.models import share_links, track_replica


async def insert_link(session: AsyncSession, values: dict[str, Any]) -> Any:
    return (
        await session.execute(insert(share_links).values(**values).returning(share_links))
    ).one()


async def replace_access_code_hash(
    session: AsyncSession, link_id: str, current: str, new: str
) -> None:
    """Store a rehashed access code, unless another request (or the owner) changed the hash
    since it was read: concurrent right codes then rehash once, and nothing is undone."""
    await session.execute(
        update(share_links)
        .where(share_links.c.id == link_id, share_links.c.access_code_hash == current)
        .values(access_code_hash=new)
    )


async def by_token_hash(session: AsyncSession, token_hash: str) -> Any:
    return (
        await session.execute(select(share_links).where(share_links.c.token_hash == token_hash))
    ).one_or_none()


async def track_links_with_replicas(
    session: AsyncSession, token_hashes: Collection[str]
) -> dict[str, Any]:
    """{token_hash: row} for the track links behind these hashes, each row with its track's
    replica (`snapshot`, `track_deleted_at`; both None when the replica lacks the track)."""
    if not token_hashes:
        return {}
    rows = await session.execute(
        select(
            share_links,
            track_replica.c.snapshot,
            track_replica.c.deleted_at.label("track_deleted_at"),
        )
        .outerjoin(track_replica, track_replica.c.track_id == share_links.c.track_id)
        .where(
            # one array parameter: the same statement for any batch size
            share_links.c.token_hash == any_(bindparam("hashes", list(token_hashes), ARRAY(Text))),
            share_links.c.kind == "track",
        )
    )
    return {row.token_hash: row for row in rows}


async def track_links_by_id(session: AsyncSession, link_ids: Collection[str]) -> dict[str, Any]:
    """{link_id: row} for these track links, in whatever state (a visit already served
    through a link is recorded even if the link was revoked a moment later)."""
    if not link_ids:
        return {}
    rows = await session.execute(
        select(share_links).where(
            share_links.c.id == any_(bindparam("ids", list(link_ids), ARRAY(Text))),
            share_links.c.kind == "track",
        )
    )
    return {row.id: row for row in rows}


async def list_for_org(
    session: AsyncSession,
    organization_id: str,
    limit: int,
    offset: int,
    filters: ShareLinkFilter,
) -> tuple[list[Row[Any]], int]:
    """A page of the org's links that match `filters`, newest first, and how many match:
    two statements whatever the filter (an index per filter serves its order: models.py)."""
    where = [share_links.c.organization_id == organization_id]
    if filters.kind is not None:
        where.append(share_links.c.kind == filters.kind)
    if filters.track_id is not None:
        where.append(share_links.c.track_id == filters.track_id)
    if filters.pack_id is not None:
        where.append(share_links.c.pack_id == filters.pack_id)
    total = await session.scalar(select(func.count()).select_from(share_links).where(*where))
    rows = (
        await session.execute(
            select(share_links)
            .where(*where)
            .order_by(share_links.c.created_at.desc(), share_links.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return list(rows), int(total or 0)


async def revoke(
    session: AsyncSession, organization_id: str, link_id: str, owner_id: str | None
) -> Any:
    """Revoke a live link of the org (created by `owner_id`, when given); returns it, or None
    if there is no such live link."""
    conditions = [
        share_links.c.id == link_id,
        share_links.c.organization_id == organization_id,
        share_links.c.revoked_at.is_(None),
    ]
    if owner_id is not None:
        conditions.append(share_links.c.owner_id == owner_id)
    return (
        await session.execute(
            update(share_links)
            .where(*conditions)
            .values(revoked_at=func.now(), updated_at=func.now())
            .returning(share_links)
        )
    ).one_or_none()


async def by_ref_code(session: AsyncSession, code: str) -> Any:
    """Ref codes are stored only as hashes, like tokens."""
    return (
        await session.execute(
            select(share_links).where(
                share_links.c.token_hash == hash_secret(code), share_links.c.kind == "ref"
            )
        )
    ).one_or_none()


async def by_slug(session: AsyncSession, slug: str) -> Any:
    return (
        await session.execute(
            select(share_links).where(share_links.c.slug == slug, share_links.c.kind == "pack")
        )
    ).one_or_none()


async def by_id(session: AsyncSession, link_id: str) -> Any:
    return (
        await session.execute(select(share_links).where(share_links.c.id == link_id))
    ).one_or_none()


async def links_for_listens(
    session: AsyncSession,
    link_ids: Collection[str],
    token_hashes: Collection[str],
    slugs: Collection[str],
) -> list[Any]:
    """The links a batch of listening beacons names, by id, token (or ref-code) hash or
    slug, in one statement of fixed shape whatever the batch holds."""
    if not (link_ids or token_hashes or slugs):
        return []
    rows = await session.execute(
        select(share_links).where(
            (share_links.c.id == any_(bindparam("ids", list(link_ids), ARRAY(Text))))
            | (
                share_links.c.token_hash
                == any_(bindparam("hashes", list(token_hashes), ARRAY(Text)))
            )
            | (share_links.c.slug == any_(bindparam("slugs", list(slugs), ARRAY(Text))))
        )
    )
    return list(rows)
