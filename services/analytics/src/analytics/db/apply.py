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

Beacons (`track.listened`) make no fact; their claim is their row in `applied_beacons`,
copied in the same way and retried the same way. Their plays are merged under a row lock:
new plays are inserted first (a concurrent insert of the same play waits, then yields),
every play of the batch is then read `for update`, merged in Python (domain/listening.py)
and written back, and what the merge added goes to `listening_daily`, `link_stats` and
`listener_tracks` (each listener's union over their plays).

The facts' rollups (daily counters and all-time uniques per scope, `db/rollups.py`) are
written from the facts just copied, in the same transaction.

However large the batch, it costs at most fifteen statements, each set-based: arrays bound
once and expanded with `unnest` (so the SQL text never changes and never needs
recompiling), and the facts written with COPY. Rows go in key order, which keeps index
inserts local and makes concurrent consumers lock shared rows in the same order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.db import rollups
from analytics.domain.batch import (
    DAILY_COUNTERS,
    FACT_COLUMNS,
    LINK_COUNTERS,
    BatchEffects,
    StoredPlay,
    effects_of,
    link_ids,
    listening_effects,
    play_keys,
)
from analytics.domain.events import Event
from analytics.domain.listening import format_multirange

FACTS_KEY = "engagement_facts_pkey"
BEACONS_KEY = "applied_beacons_pkey"
CLAIMS = (FACTS_KEY, BEACONS_KEY)

ALREADY_APPLIED = """
    select event_id from analytics.engagement_facts where event_id = any($1::uuid[])
    union all
    select event_id from analytics.applied_beacons where event_id = any($1::uuid[])"""
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
      select link_id collate "C" as link_id, views, plays, downloads, reshares, previews,
        qualified_plays
      from unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[],
        $9::bigint[], $10::bigint[])
        as i(link_id, views, plays, downloads, reshares, previews, qualified_plays)
    )
    insert into analytics.link_stats
      (link_id, views, plays, downloads, reshares, unique_visitors, previews, qualified_plays)
    select coalesce(i.link_id, u.link_id), coalesce(i.views, 0), coalesce(i.plays, 0),
      coalesce(i.downloads, 0), coalesce(i.reshares, 0), coalesce(u.n, 0),
      coalesce(i.previews, 0), coalesce(i.qualified_plays, 0)
    from increments i full join new_uniques u on u.link_id = i.link_id
    order by 1
    on conflict (link_id) do update set
      views = link_stats.views + excluded.views,
      plays = link_stats.plays + excluded.plays,
      downloads = link_stats.downloads + excluded.downloads,
      reshares = link_stats.reshares + excluded.reshares,
      unique_visitors = link_stats.unique_visitors + excluded.unique_visitors,
      previews = link_stats.previews + excluded.previews,
      qualified_plays = link_stats.qualified_plays + excluded.qualified_plays,
      updated_at = now()"""
INSERT_PLAYS = """
    insert into analytics.plays (track_id, listener_key, play_id, link_id, link_kind, pack_id,
      organization_id, user_id, user_handle, user_display_name, visitor_key, session_id,
      source, browser, os, device_class, started_at, last_heard_at)
    select *, started_at from unnest($1::text[], $2::text[], $3::text[], $4::text[],
      $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
      $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::timestamptz[])
      as p(track_id, listener_key, play_id, link_id, link_kind, pack_id, organization_id,
        user_id, user_handle, user_display_name, visitor_key, session_id, source, browser,
        os, device_class, started_at)
    on conflict do nothing
    returning track_id, listener_key, play_id"""
LOCK_PLAYS = """
    select p.track_id, p.listener_key, p.play_id, p.heard::text as heard, p.duration_seconds,
      p.started_at, p.link_id, p.pack_id, p.user_handle, p.user_display_name
    from analytics.plays p
    join unnest($1::text[], $2::text[], $3::text[]) as k(track_id, listener_key, play_id)
      on p.track_id = k.track_id and p.listener_key = k.listener_key and p.play_id = k.play_id
    order by p.track_id, p.listener_key, p.play_id
    for update of p"""
UPDATE_PLAYS = """
    update analytics.plays p set heard = u.heard::nummultirange, seconds_heard = u.seconds,
      furthest_seconds = u.furthest, qualified = u.qualified, duration_seconds = u.duration,
      last_heard_at = greatest(p.last_heard_at, u.last_heard_at)
    from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[],
      $7::bool[], $8::float8[], $9::timestamptz[])
      as u(track_id, listener_key, play_id, heard, seconds, furthest, qualified, duration,
        last_heard_at)
    where p.track_id = u.track_id and p.listener_key = u.listener_key
      and p.play_id = u.play_id"""
# a listener's union grows by each play's (idempotent: a union with itself is itself)
ADD_LISTENER_TRACKS = """
    insert into analytics.listener_tracks as t (scope, scope_id, track_id, listener_key,
      user_handle, user_display_name, plays, heard, furthest_seconds, duration_seconds)
    select scope, scope_id, track_id, listener_key, user_handle, user_display_name, plays,
      heard::nummultirange, furthest, duration
    from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
      $7::bigint[], $8::text[], $9::float8[], $10::float8[])
      as u(scope, scope_id, track_id, listener_key, user_handle, user_display_name, plays,
        heard, furthest, duration)
    on conflict (scope, scope_id, track_id, listener_key) do update set
      plays = t.plays + excluded.plays,
      heard = t.heard + excluded.heard,
      furthest_seconds = greatest(t.furthest_seconds, excluded.furthest_seconds),
      duration_seconds = greatest(t.duration_seconds, excluded.duration_seconds),
      user_handle = coalesce(excluded.user_handle, t.user_handle),
      user_display_name = coalesce(excluded.user_display_name, t.user_display_name)"""
ADD_LISTENING_DAILY = """
    insert into analytics.listening_daily (scope, scope_id, day, play_starts, depth_plays,
      qualified_plays, seconds_heard, reached_25, reached_50, reached_75, reached_100)
    select * from unnest($1::text[], $2::text[], $3::date[], $4::bigint[], $5::bigint[],
      $6::bigint[], $7::float8[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])
    on conflict (scope, scope_id, day) do update set
      play_starts = listening_daily.play_starts + excluded.play_starts,
      depth_plays = listening_daily.depth_plays + excluded.depth_plays,
      qualified_plays = listening_daily.qualified_plays + excluded.qualified_plays,
      seconds_heard = listening_daily.seconds_heard + excluded.seconds_heard,
      reached_25 = listening_daily.reached_25 + excluded.reached_25,
      reached_50 = listening_daily.reached_50 + excluded.reached_50,
      reached_75 = listening_daily.reached_75 + excluded.reached_75,
      reached_100 = listening_daily.reached_100 + excluded.reached_100"""
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
        if exc.constraint_name not in CLAIMS:
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
        await rollups.add_batch(conn, [fact[0] for fact in effects.facts])  # event_id
    if effects.beacon_claims:
        await conn.copy_records_to_table(
            "applied_beacons",
            schema_name="analytics",
            columns=("event_id",),
            records=[(event_id,) for event_id in effects.beacon_claims],
        )
        await _merge_plays(conn, effects)
    if effects.link_increments or effects.visitors:
        counts = [(link, *n) for link, n in sorted(effects.link_increments.items())]
        visitors = [(link, key, first) for (link, key), first in sorted(effects.visitors.items())]
        columns = _columns(counts, 1 + len(LINK_COUNTERS))
        await conn.execute(
            ADD_LINK_STATS_AND_VISITORS, *columns[:5], *_columns(visitors, 3), *columns[5:]
        )
    if effects.play_windows:
        rows = [(track, key, at) for (track, key), at in sorted(effects.play_windows.items())]
        await conn.execute(SET_PLAY_WINDOWS, *_columns(rows, 3))
    if effects.links:
        rows = [effects.links[link] for link in sorted(effects.links)]
        await conn.execute(UPSERT_LINKS, *_columns(rows, 7))
    return len(fresh)


async def _merge_plays(conn: Any, effects: BatchEffects) -> None:
    """The batch's beacons into their plays (see the module doc); the qualified plays it
    adds go to `effects.link_increments`, written by the link statement after this."""
    beacons = effects.beacons
    rows = [beacons[key].attribution for key in sorted(beacons)]
    inserted = {tuple(r) for r in await conn.fetch(INSERT_PLAYS, *_columns(rows, 17))}
    keys = _columns(sorted(beacons), 3)
    stored = [
        StoredPlay(
            key=(r["track_id"], r["listener_key"], r["play_id"]),
            heard=r["heard"],
            duration=r["duration_seconds"],
            started_at=r["started_at"],
            link_id=r["link_id"],
            pack_id=r["pack_id"],
            new=(r["track_id"], r["listener_key"], r["play_id"]) in inserted,
            user_handle=r["user_handle"],
            user_display_name=r["user_display_name"],
        )
        for r in await conn.fetch(LOCK_PLAYS, *keys)
    ]
    merged = listening_effects(beacons, stored)
    updates = [(*row[:3], format_multirange(row[3]), *row[4:]) for row in merged.plays]
    await conn.execute(UPDATE_PLAYS, *_columns(updates, 9))
    if merged.daily:
        daily = [(*key, *counts) for key, counts in sorted(merged.daily.items())]
        await conn.execute(ADD_LISTENING_DAILY, *_columns(daily, 3 + len(DAILY_COUNTERS)))
        depth = [
            (
                *key,
                d.user_handle,
                d.user_display_name,
                d.plays,
                format_multirange(d.union),
                d.furthest,
                d.duration,
            )
            for key, d in sorted(merged.listeners.items())
        ]
        await conn.execute(ADD_LISTENER_TRACKS, *_columns(depth, 10))
    slot = LINK_COUNTERS.index("qualified_plays")
    for link, n in merged.qualified_by_link.items():
        effects.link_counts(link)[slot] += n
