"""Engagement events, written best-effort: a failure is logged and counted, never raised.

The page a visitor opened must answer even when the event cannot be stored; the outbox
then carries whatever was stored to Kafka.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from litestar import Request
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import EngagementPayload, EventEnvelope, wrap
from servicekit.internal import ENGAGEMENT_HEADER, engagement_of
from servicekit.tracing import current_traceparent, trace_id_of
from sharing.context import PRODUCER, SharingContext

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


def about(link: Any) -> dict[str, Any]:
    """What every engagement event says about the link it came through."""
    return {
        "link_id": link.id,
        "link_kind": link.kind,
        "link_owner_id": link.owner_id,
        "organization_id": link.organization_id,
        "pack_id": link.pack_id,
    }


async def record(
    ctx: SharingContext, payload: EngagementPayload, via: Request[Any, Any, Any] | None = None
) -> bool:
    """Store one engagement event unless the visitor owns the link, or the gateway said the
    request `via` is over its client's anonymous-engagement limit or no new visit (see
    servicekit.internal.engagement_of). True if stored."""
    if via is not None and not engagement_of(via)[0]:
        if via.headers.get(ENGAGEMENT_HEADER) == "limited":
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
    """An owner's own visit is never an engagement event (counted as skipped)."""
    if payload.link_owner_id and payload.visitor.user_id == payload.link_owner_id:
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
