"""Applies a batch of events in one transaction with a fixed number of statements.

Exactly once in effect: every applied engagement becomes a fact, and the facts' primary
key (the event id) is the claim. The batch is first applied as if every event were new;
if one was applied before (a redelivery after a crash, or another consumer holding the
partition during a rebalance), the COPY of the facts hits the key, the whole transaction
rolls back, and the batch is applied again without the events already there. Events that
make no fact need no claim: an owner preview has no effect, and a link lifecycle upsert
gives the same row however often it runs. The claim commits with the effects, so
redelivery never double-counts, and no separate table of processed ids (a second unique
index to maintain per event) is needed.

However large the batch, it costs at most seven statements, each set-based: arrays bound
once and expanded with `unnest` (so the SQL text never changes and never needs
recompiling), and the facts written with COPY. Rows go in key order, which keeps index
inserts local and makes concurrent consumers lock shared rows in the same order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.domain.batch import FACT_COLUMNS, effects_of, link_ids, play_keys
from analytics.domain.events import Event

FACTS_KEY = "engagement_facts_pkey"

ALREADY_APPLIED = """
    select event_id from analytics.engagement_facts where event_id = any($1::uuid[])"""
OWNERS = "select link_id, owner_id from analytics.links where link_id = any($1::text[])"
LAST_PLAYS = """
    select w.track_id, w.listener_key, w.last_counted_at
    from analytics.play_windows w
    join unnest($1::text[], $2::text[]) as k(track_id, listener_key)
      on w.track_id = k.track_id and w.listener_key = k.listener_key"""
# One statement for a batch's link counters and its unique visitors: the visitors the
# insert actually adds (`returning` skips those already there, including ones a concurrent
# transaction added first) are counted per link and added to `link_stats.unique_visitors`
# with the other increments, so the count stays exact under redelivery and racing
# consumers, and each touched link row is updated once.
ADD_LINK_STATS_AND_VISITORS = """
    with new_visitors as (
      insert into analytics.link_visitors (link_id, visitor_key, first_seen)
      select * from unnest($6::text[], $7::text[], $8::timestamptz[])
      on conflict do nothing
      returning link_id
    ), new_uniques as (
      select link_id, count(*) as n from new_visitors group by link_id
    ), increments as (
      select link_id collate "C" as link_id, views, plays, downloads, reshares
      from unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
        as i(link_id, views, plays, downloads, reshares)
    )
    insert into analytics.link_stats
      (link_id, views, plays, downloads, reshares, unique_visitors)
    select coalesce(i.link_id, u.link_id), coalesce(i.views, 0), coalesce(i.plays, 0),
      coalesce(i.downloads, 0), coalesce(i.reshares, 0), coalesce(u.n, 0)
    from increments i full join new_uniques u on u.link_id = i.link_id
    order by 1
    on conflict (link_id) do update set
      views = link_stats.views + excluded.views,
      plays = link_stats.plays + excluded.plays,
      downloads = link_stats.downloads + excluded.downloads,
      reshares = link_stats.reshares + excluded.reshares,
      unique_visitors = link_stats.unique_visitors + excluded.unique_visitors,
      updated_at = now()"""
SET_PLAY_WINDOWS = """
    insert into analytics.play_windows (track_id, listener_key, last_counted_at)
    select * from unnest($1::text[], $2::text[], $3::timestamptz[])
    on conflict (track_id, listener_key) do update
      set last_counted_at = greatest(play_windows.last_counted_at, excluded.last_counted_at)"""
UPSERT_LINKS = """
    insert into analytics.links (link_id, kind, organization_id, owner_id, track_id, pack_id, revoked_at)
    select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
    on conflict (link_id) do update set revoked_at = coalesce(links.revoked_at, excluded.revoked_at)"""


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session (for arrays and COPY)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    return (
        [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]
    )


async def apply_batch(
    session: AsyncSession, events: list[Event], *, window_seconds: float | None = None
) -> int:
    """Apply the not-yet-applied events of a batch; returns how many were new.

    The statements go straight to asyncpg, which SQLAlchemy's lazily started transaction
    would not cover, so each attempt runs in an explicit asyncpg transaction (a savepoint
    if one is already open): the claims and the effects commit together or not at all."""
    conn = await driver_connection(session)
    unique = list({event.event_id: event for event in events}.values())  # a batch may repeat one
    try:
        async with conn.transaction():
            return await _apply(conn, unique, window_seconds)
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != FACTS_KEY:
            raise
    async with conn.transaction():
        applied = {
            row[0] for row in await conn.fetch(ALREADY_APPLIED, [e.event_id for e in unique])
        }
        return await _apply(conn, [e for e in unique if e.event_id not in applied], window_seconds)


async def _apply(conn: Any, fresh: list[Event], window_seconds: float | None) -> int:
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
        last = {
            (r["track_id"], r["listener_key"]): r["last_counted_at"]
            for r in await conn.fetch(LAST_PLAYS, *_columns(pairs, 2))
        }
    effects = effects_of(fresh, owners=owners, last_plays=last, window_seconds=window_seconds)

    if effects.facts:
        await conn.copy_records_to_table(
            "engagement_facts", schema_name="analytics", columns=FACT_COLUMNS, records=effects.facts
        )
    if effects.link_increments or effects.visitors:
        counts = [(link, *n) for link, n in sorted(effects.link_increments.items())]
        visitors = [(link, key, first) for (link, key), first in sorted(effects.visitors.items())]
        await conn.execute(
            ADD_LINK_STATS_AND_VISITORS, *_columns(counts, 5), *_columns(visitors, 3)
        )
    if effects.play_windows:
        rows = [(track, key, at) for (track, key), at in sorted(effects.play_windows.items())]
        await conn.execute(SET_PLAY_WINDOWS, *_columns(rows, 3))
    if effects.links:
        rows = [effects.links[link] for link in sorted(effects.links)]
        await conn.execute(UPSERT_LINKS, *_columns(rows, 7))
    return len(fresh)
