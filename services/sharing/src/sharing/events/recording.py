"""Engagement events, written best-effort: a failure is logged and counted, never raised.

The page a visitor opened must answer even when the event cannot be stored; the outbox
then carries whatever was stored to Kafka.
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import Counter

from contracts.events import EngagementPayload, wrap
from servicekit.tracing import current_trace_id
from sharing.context import PRODUCER, SharingContext

log = logging.getLogger(__name__)

RECORDED = Counter("encore_engagement_recorded_total", "Engagement events stored", ["type"])
RECORD_FAILURES = Counter(
    "encore_engagement_record_failures_total",
    "Engagement events that could not be stored",
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


async def record(ctx: SharingContext, payload: EngagementPayload) -> bool:
    """Store one engagement event unless the visitor owns the link. Returns True if stored."""
    if payload.link_owner_id and payload.visitor.user_id == payload.link_owner_id:
        SKIPPED_OWNER.labels(payload.TYPE).inc()
        return False
    try:
        async with ctx.sessions() as session, session.begin():
            await ctx.outbox.add(
                session, wrap(payload, producer=PRODUCER, trace_id=current_trace_id())
            )
    except Exception:
        RECORD_FAILURES.labels(payload.TYPE).inc()
        log.exception("could not record %s for link %s", payload.TYPE, payload.link_id)
        return False
    ctx.outbox.notify()
    RECORDED.labels(payload.TYPE).inc()
    return True
