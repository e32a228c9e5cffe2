"""Applies a batch of events in one transaction with a fixed number of statements.

The event ids are claimed first; only events whose id was not yet processed have any
effect, and the claim commits with the effect, so redelivery never double-counts. However
large the batch, it costs at most eight statements.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.db.models import (
    engagement_facts,
    link_stats,
    link_visitors,
    links,
    play_windows,
    processed_events,
)
from analytics.domain.batch import effects_of, link_ids, play_keys
from contracts.events import EventEnvelope, Payload

COUNTERS = ("views", "plays", "downloads", "reshares")


async def claim_new(session: AsyncSession, event_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Record these ids as processed; returns the ones that were not processed before."""
    if not event_ids:
        return set()
    ids = (
        func.unnest(literal(event_ids, ARRAY(UUID(as_uuid=True))))
        .table_valued("event_id")
        .render_derived(name="claimed")
    )
    stmt = (
        insert(processed_events)
        .from_select(["event_id"], select(ids.c.event_id))
        .on_conflict_do_nothing(index_elements=[processed_events.c.event_id])
        .returning(processed_events.c.event_id)
    )
    return set((await session.execute(stmt)).scalars())


async def link_owners(session: AsyncSession, wanted: set[str]) -> dict[str, str]:
    if not wanted:
        return {}
    rows = await session.execute(
        select(links.c.link_id, links.c.owner_id).where(
            links.c.link_id == func.any(literal(sorted(wanted), ARRAY(String)))
        )
    )
    return {row.link_id: row.owner_id for row in rows}


async def last_counted_plays(
    session: AsyncSession, pairs: set[tuple[str, str]]
) -> dict[tuple[str, str], datetime]:
    if not pairs:
        return {}
    rows = await session.execute(
        select(play_windows).where(
            tuple_(play_windows.c.track_id, play_windows.c.listener_key).in_(sorted(pairs))
        )
    )
    return {(row.track_id, row.listener_key): row.last_counted_at for row in rows}


async def apply_batch(
    session: AsyncSession,
    envelopes: list[EventEnvelope[Payload]],
    *,
    window_seconds: float | None = None,
) -> int:
    """Apply the not-yet-seen events of a batch; returns how many were new."""
    unique = {env.event_id: env for env in envelopes}  # a batch may carry the same id twice
    new_ids = await claim_new(session, list(unique))
    fresh = [env for event_id, env in unique.items() if event_id in new_ids]
    if not fresh:
        return 0
    effects = effects_of(
        fresh,
        owners=await link_owners(session, link_ids(fresh)),
        last_plays=await last_counted_plays(session, play_keys(fresh)),
        window_seconds=window_seconds,
    )
    if effects.facts:
        await session.execute(insert(engagement_facts).on_conflict_do_nothing(), effects.facts)
    if effects.link_increments:
        rows = [
            {"link_id": link_id, **{c: counts.get(c, 0) for c in COUNTERS}}
            for link_id, counts in effects.link_increments.items()
        ]
        stmt = insert(link_stats).values(rows)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[link_stats.c.link_id],
                set_={
                    **{c: getattr(link_stats.c, c) + getattr(stmt.excluded, c) for c in COUNTERS},
                    "updated_at": func.now(),
                },
            )
        )
    if effects.visitors:
        await session.execute(
            insert(link_visitors)
            .values(
                [
                    {"link_id": link_id, "visitor_key": key, "first_seen": first}
                    for (link_id, key), first in effects.visitors.items()
                ]
            )
            .on_conflict_do_nothing()
        )
    if effects.play_windows:
        stmt = insert(play_windows).values(
            [
                {"track_id": track, "listener_key": key, "last_counted_at": at}
                for (track, key), at in effects.play_windows.items()
            ]
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[play_windows.c.track_id, play_windows.c.listener_key],
                set_={
                    "last_counted_at": func.greatest(
                        play_windows.c.last_counted_at, stmt.excluded.last_counted_at
                    )
                },
            )
        )
    if effects.links:
        stmt = insert(links).values(list(effects.links.values()))
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[links.c.link_id],
                set_={"revoked_at": func.coalesce(links.c.revoked_at, stmt.excluded.revoked_at)},
            )
        )
    return len(fresh)
