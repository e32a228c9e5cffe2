"""Turning a batch of engagement events into the rows and increments to apply (no I/O)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from contracts.events import (
    EngagementPayload,
    EventEnvelope,
    PackViewed,
    Payload,
    ShareClicked,
    ShareLinkLifecycle,
    ShareRecorded,
    TrackDownloaded,
    TrackPlayed,
    Visitor,
)

COUNTER_OF: dict[type[Payload], str] = {
    ShareClicked: "views",
    PackViewed: "views",
    TrackPlayed: "plays",
    TrackDownloaded: "downloads",
    ShareRecorded: "reshares",
}


def visitor_key(visitor: Visitor) -> str | None:
    """Who counts as one unique visitor: visitorId, else sessionId, else the signed-in user."""
    if visitor.visitor_id:
        return "v:" + visitor.visitor_id
    if visitor.session_id:
        return "s:" + visitor.session_id
    if visitor.user_id:
        return "u:" + visitor.user_id
    return None


def is_owner_preview(payload: EngagementPayload) -> bool:
    return bool(payload.link_owner_id) and payload.visitor.user_id == payload.link_owner_id


@dataclass
class BatchEffects:
    facts: list[dict[str, Any]] = field(default_factory=list)
    link_increments: dict[str, Counter[str]] = field(default_factory=dict)
    visitors: dict[tuple[str, str], Any] = field(default_factory=dict)
    links: dict[str, dict[str, Any]] = field(default_factory=dict)


def effects_of(envelopes: list[EventEnvelope[Payload]]) -> BatchEffects:
    """What applying these (new, deduplicated) events changes."""
    effects = BatchEffects()
    for env in envelopes:
        payload = env.payload
        if isinstance(payload, ShareLinkLifecycle):
            effects.links[payload.link_id] = {
                "link_id": payload.link_id,
                "kind": payload.link_kind,
                "organization_id": payload.organization_id,
                "owner_id": payload.owner_id,
                "track_id": payload.track_id,
                "pack_id": payload.pack_id,
                "revoked_at": env.occurred_at if payload.action != "created" else None,
            }
            continue
        if not isinstance(payload, EngagementPayload) or is_owner_preview(payload):
            continue
        key = visitor_key(payload.visitor)
        effects.facts.append(
            {
                "event_id": env.event_id,
                "type": payload.TYPE,
                "link_id": payload.link_id,
                "link_kind": payload.link_kind,
                "track_id": payload.track_id,
                "pack_id": payload.pack_id,
                "organization_id": payload.organization_id,
                "user_id": payload.visitor.user_id,
                "visitor_key": key,
                "source": payload.visitor.source,
                "occurred_at": env.occurred_at,
            }
        )
        counter = COUNTER_OF.get(type(payload))
        if payload.link_id and counter:
            effects.link_increments.setdefault(payload.link_id, Counter())[counter] += 1
            if key:
                first = effects.visitors.get((payload.link_id, key))
                if first is None or env.occurred_at < first:
                    effects.visitors[(payload.link_id, key)] = env.occurred_at
    return effects
