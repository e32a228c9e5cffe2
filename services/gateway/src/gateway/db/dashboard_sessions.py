"""Dashboard sessions: made from a live API key, found by the hash of their id.

`live_caller` is the one statement every signed-in page runs: the session, its API key
(still live), the user and their personal organization, and (at most once a minute) the
idle clock moved on, in a single round trip."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.hashing import hash_secret
from gateway.db.identity import Caller
from gateway.db.models import api_keys, dashboard_sessions, organizations, users

# the idle clock is moved on at most this often: a page view is a read, not a write
TOUCH_EVERY = timedelta(seconds=60)


async def create(
    session: AsyncSession,
    raw_id: str,
    caller: Caller,
    lifetime: timedelta,
    idle: timedelta,
) -> None:
    """A new session for `caller`'s key; the user's finished sessions are cleared out."""
    assert caller.api_key_id is not None
    await session.execute(
        delete(dashboard_sessions).where(
            dashboard_sessions.c.user_id == caller.user_id,
            or_(
                dashboard_sessions.c.expires_at <= func.now(),
                dashboard_sessions.c.last_seen_at <= func.now() - idle,
            ),
        )
    )
    await session.execute(
        insert(dashboard_sessions).values(
            id_hash=hash_secret(raw_id),
            user_id=caller.user_id,
            api_key_id=caller.api_key_id,
            expires_at=func.now() + lifetime,
        )
    )


async def live_caller(session: AsyncSession, raw_id: str, idle: timedelta) -> Caller | None:
    """The session's caller while the session is within both limits and its key is live."""
    personal = (
        select(organizations.c.id)
        .where(organizations.c.personal_user_id == users.c.id, organizations.c.personal.is_(True))
        .scalar_subquery()
    )
    s = dashboard_sessions.c
    live = (
        select(
            s.id_hash,
            s.last_seen_at,
            users.c.id,
            users.c.handle,
            users.c.display_name,
            api_keys.c.id.label("key_id"),
            personal.label("personal_org"),
        )
        .join(api_keys, api_keys.c.id == s.api_key_id)
        .join(users, users.c.id == s.user_id)
        .where(
            s.id_hash == hash_secret(raw_id),
            api_keys.c.revoked_at.is_(None),
            s.expires_at > func.now(),
            s.last_seen_at > func.now() - idle,
        )
        .cte("live")
    )
    touched = (
        update(dashboard_sessions)
        .where(s.id_hash == live.c.id_hash, live.c.last_seen_at < func.now() - TOUCH_EVERY)
        .values(last_seen_at=func.now())
        .cte("touched")
    )
    stmt = select(live).add_cte(touched)
    row = (await session.execute(stmt)).first()
    if row is None:
        return None
    return Caller(row.id, row.handle, row.display_name, row.key_id, row.personal_org)


async def end(session: AsyncSession, raw_id: str) -> None:
    await session.execute(
        delete(dashboard_sessions).where(dashboard_sessions.c.id_hash == hash_secret(raw_id))
    )
