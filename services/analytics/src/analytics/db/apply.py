"""Applies a batch of events in one transaction with a fixed number of statements.

The event ids are claimed first; only events whose id was not yet processed have any
effect, and the claim commits with the effect, so redelivery never double-counts. However
large the batch, it costs at most eight statements, each set-based: arrays bound once and
expanded with `unnest` (so the SQL text never changes and never needs recompiling), and
the facts written with COPY.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.domain.batch import effects_of, link_ids, play_keys
from contracts.events import EventEnvelope, Payload

COUNTERS = ("views", "plays", "downloads", "reshares")
FACT_COLUMNS = (
    "event_id",
    "type",
    "link_id",
    "link_kind",
    "track_id",
    "pack_id",
    "organization_id",
    "user_id",
    "user_handle",
    "user_display_name",
    "session_id",
    "visitor_key",
    "listener_key",
    "counted",
    "source",
    "occurred_at",
    "trace_id",
)

CLAIM = """
    insert into analytics.processed_events (event_id)
    select unnest($1::uuid[]) on conflict do nothing returning event_id"""
OWNERS = "select link_id, owner_id from analytics.links where link_id = any($1::text[])"
LAST_PLAYS = """
    select w.track_id, w.listener_key, w.last_counted_at
    from analytics.play_windows w
    join unnest($1::text[], $2::text[]) as k(track_id, listener_key)
      on w.track_id = k.track_id and w.listener_key = k.listener_key"""
ADD_LINK_STATS = """
    insert into analytics.link_stats (link_id, views, plays, downloads, reshares)
    select * from unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
    on conflict (link_id) do update set
      views = link_stats.views + excluded.views,
      plays = link_stats.plays + excluded.plays,
      downloads = link_stats.downloads + excluded.downloads,
      reshares = link_stats.reshares + excluded.reshares,
      updated_at = now()"""
ADD_VISITORS = """
    insert into analytics.link_visitors (link_id, visitor_key, first_seen)
    select * from unnest($1::text[], $2::text[], $3::timestamptz[])
    on conflict do nothing"""
SET_PLAY_WINDOWS = """
    insert into analytics.play_windows (track_id, listener_key, last_counted_at)
    select * from unnest($1::text[], $2::text[], $3::timestamptz[])
    on conflict (track_id, listener_key) do update
      set last_counted_at = greatest(play_windows.last_counted_at, excluded.last_counted_at)"""
UPSERT_LINKS = """
    insert into analytics.links (link_id, kind, organization_id, owner_id, track_id, pack_id, revoked_at)
    select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
    on conflict (link_id) do update set revoked_at = coalesce(links.revoked_at, excluded.revoked_at)"""


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's transaction (for arrays and COPY)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return (
        [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]
    )


async def apply_batch(
    session: AsyncSession,
    envelopes: list[EventEnvelope[Payload]],
    *,
    window_seconds: float | None = None,
) -> int:
    """Apply the not-yet-seen events of a batch; returns how many were new.

    The statements go straight to asyncpg, which SQLAlchemy's lazily started transaction
    would not cover, so the batch runs in an explicit asyncpg transaction (a savepoint if
    one is already open): the claim of the ids and their effects commit together or not
    at all."""
    conn = await _driver(session)
    async with conn.transaction():
        return await _apply(conn, envelopes, window_seconds)


async def _apply(
    conn: Any, envelopes: list[EventEnvelope[Payload]], window_seconds: float | None
) -> int:
    unique = {env.event_id: env for env in envelopes}  # a batch may carry the same id twice
    claimed: set[uuid.UUID] = {row["event_id"] for row in await conn.fetch(CLAIM, list(unique))}
    fresh = [env for event_id, env in unique.items() if event_id in claimed]
    if not fresh:
        return 0
    wanted_links = sorted(link_ids(fresh))
    owners = (
        {r["link_id"]: r["owner_id"] for r in await conn.fetch(OWNERS, wanted_links)}
        if wanted_links
        else {}
    )
    pairs = sorted(play_keys(fresh))
    last: dict[tuple[str, str], datetime] = {}
    if pairs:
        tracks, listeners = _columns(pairs, 2)
        last = {
            (r["track_id"], r["listener_key"]): r["last_counted_at"]
            for r in await conn.fetch(LAST_PLAYS, tracks, listeners)
        }
    effects = effects_of(fresh, owners=owners, last_plays=last, window_seconds=window_seconds)

    if effects.facts:
        await conn.copy_records_to_table(
            "engagement_facts",
            schema_name="analytics",
            columns=FACT_COLUMNS,
            records=[tuple(fact[c] for c in FACT_COLUMNS) for fact in effects.facts],
        )
    if effects.link_increments:
        rows = [
            (link, *(counts.get(c, 0) for c in COUNTERS))
            for link, counts in effects.link_increments.items()
        ]
        await conn.execute(ADD_LINK_STATS, *_columns(rows, 5))
    if effects.visitors:
        rows = [(link, key, first) for (link, key), first in effects.visitors.items()]
        await conn.execute(ADD_VISITORS, *_columns(rows, 3))
    if effects.play_windows:
        rows = [(track, key, at) for (track, key), at in effects.play_windows.items()]
        await conn.execute(SET_PLAY_WINDOWS, *_columns(rows, 3))
    if effects.links:
        rows = [
            (
                v["link_id"],
                v["kind"],
                v["organization_id"],
                v["owner_id"],
                v["track_id"],
                v["pack_id"],
                v["revoked_at"],
            )
            for v in effects.links.values()
        ]
        await conn.execute(UPSERT_LINKS, *_columns(rows, 7))
    return len(fresh)
