"""Engagement events, written best-effort: a failure is logged and counted, never raised.

The page a visitor opened must answer even when the event cannot be stored; the outbox
then carries whatever was stored to Kafka. An owner's own engagement is never stored
(`sharing.domain.links.is_owners_own`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import EngagementPayload, EventEnvelope, PreviewReason, Visitor, wrap
from servicekit.internal import Actor
from servicekit.tracing import current_traceparent, trace_id_of
from sharing.context import PRODUCER, SharingContext
from sharing.domain.links import is_owners_own

log = logging.getLogger(__name__)

RECORDED = Counter("encore_engagement_recorded_total", "Engagement events stored", ["type"])
RECORD_FAILURES = Counter(
    "encore_engagement_record_failures_total",
    "Engagement events that could not be stored",
    ["type"],
)
SKIPPED_LIMITED = Counter(
    "encore_engagement_limited_skipped_total",
    "Anonymous engagement over its client's limit (the gateway's verdict), not recorded",
    ["type"],
)
SKIPPED_OWNER = Counter(
    "encore_engagement_owner_skipped_total",
    "Engagement by the link's owner, not recorded",
    ["type"],
)


@dataclass(frozen=True, slots=True)
class Visit:
    """Who opens a public surface, and what the gateway decided of the request
    (servicekit.internal.engagement_of): `counts` false when it is over its client's
    anonymous-engagement limit (`limited`) or no new visit; `preview` when it is a preview
    fetcher's, a bot's, a HEAD or a prefetch (recorded as `share.previewed` where links open)."""

    actor: Actor
    visitor: Visitor
    counts: bool = True
    preview: PreviewReason | None = None
    limited: bool = False


async def record(
    ctx: SharingContext, payload: EngagementPayload, visit: Visit | None = None
) -> bool:
    """Store one engagement event unless the visitor owns the link, or the gateway said the
    `visit` does not count. True if stored."""
    if visit is not None and not visit.counts:
        if visit.limited:
            SKIPPED_LIMITED.labels(payload.TYPE).inc()
        return False
    async with ctx.sessions() as session:
        return await record_in(session, ctx, [(payload, current_traceparent())]) == 1


async def record_in(
    session: AsyncSession,
    ctx: SharingContext,
    events: Sequence[tuple[EngagementPayload, str | None]],
) -> int:
    """Add the events to the outbox and commit the session's transaction, leaving out
    owners' own visits. Each event continues the trace of its W3C `traceparent`. Returns
    how many were stored: all of them, or none (rolled back)."""
    kept = [(payload, parent) for payload, parent in events if not by_owner(payload)]
    wanted = [
        wrap(payload, producer=PRODUCER, trace_id=trace_id_of(parent)) for payload, parent in kept
    ]
    try:
        return await store(session, ctx, wanted, [parent for _, parent in kept])
    except Exception:
        await session.rollback()
        for envelope in wanted:
            RECORD_FAILURES.labels(envelope.type).inc()
        log.exception("could not record %d engagement events", len(wanted))
        return 0


def by_owner(payload: EngagementPayload) -> bool:
    """An owner's own visit through their link is never an engagement event (counted as
    skipped)."""
    if is_owners_own(payload.visitor.user_id, payload.link_owner_id):
        SKIPPED_OWNER.labels(payload.TYPE).inc()
        return True
    return False


async def store(
    session: AsyncSession,
    ctx: SharingContext,
    envelopes: Sequence[EventEnvelope[Any]],
    traceparents: Sequence[str | None] | None = None,
) -> int:
    """Add the envelopes to the outbox and commit; raises if that fails. `traceparents`:
    the trace each continues, when not the current request's (visits sent in a batch)."""
    if not envelopes:
        return 0
    await ctx.outbox.add(session, *envelopes, traceparents=traceparents)
    await session.commit()
    for envelope in envelopes:
        RECORDED.labels(envelope.type).inc()
    return len(envelopes)
