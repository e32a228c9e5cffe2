"""Turning a batch of new events into rows and increments (no I/O).

Rules that live here:
- a unique visitor is the visitorId, else the sessionId, else the signed-in user;
- a listener is the signed-in user, else the visitorId, else the sessionId;
- a listener's plays of one track count once per dedupe window (the track's duration
  clamped to 30 s - 1 h unless configured), so refreshing does not inflate plays;
- an event whose visitor is the link's owner is dropped (owner previews never count).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
MIN_WINDOW = 30.0
MAX_WINDOW = 3600.0


def visitor_key(visitor: Visitor) -> str | None:
    if visitor.visitor_id:
        return "v:" + visitor.visitor_id
    if visitor.session_id:
        return "s:" + visitor.session_id
    if visitor.user_id:
        return "u:" + visitor.user_id
    return None


def listener_key(visitor: Visitor) -> str | None:
    if visitor.user_id:
        return "u:" + visitor.user_id
    if visitor.visitor_id:
        return "v:" + visitor.visitor_id
    if visitor.session_id:
        return "s:" + visitor.session_id
    return None


def dedupe_window(duration_seconds: float | None, configured: float | None) -> timedelta:
    if configured is not None:
        return timedelta(seconds=configured)
    return timedelta(seconds=min(max(duration_seconds or MIN_WINDOW, MIN_WINDOW), MAX_WINDOW))


def is_owner_preview(payload: EngagementPayload, owners: dict[str, str]) -> bool:
    owner = payload.link_owner_id or (owners.get(payload.link_id) if payload.link_id else None)
    return bool(owner) and payload.visitor.user_id == owner


@dataclass
class BatchEffects:
    facts: list[dict[str, Any]] = field(default_factory=list)
    link_increments: dict[str, Counter[str]] = field(default_factory=dict)
    visitors: dict[tuple[str, str], datetime] = field(default_factory=dict)
    play_windows: dict[tuple[str, str], datetime] = field(default_factory=dict)
    links: dict[str, dict[str, Any]] = field(default_factory=dict)


def play_keys(envelopes: list[EventEnvelope[Payload]]) -> set[tuple[str, str]]:
    """(track, listener) pairs whose last counted play the batch needs to know."""
    keys = set()
    for env in envelopes:
        if isinstance(env.payload, TrackPlayed) and (key := listener_key(env.payload.visitor)):
            keys.add((env.payload.track_id, key))
    return keys


def link_ids(envelopes: list[EventEnvelope[Payload]]) -> set[str]:
    return {
        env.payload.link_id
        for env in envelopes
        if isinstance(env.payload, EngagementPayload) and env.payload.link_id
    }


def effects_of(
    envelopes: list[EventEnvelope[Payload]],
    *,
    owners: dict[str, str] | None = None,
    last_plays: dict[tuple[str, str], datetime] | None = None,
    window_seconds: float | None = None,
) -> BatchEffects:
    """What applying these new (deduplicated by id) events changes."""
    owners = owners or {}
    last = dict(last_plays or {})
    effects = BatchEffects()
    for env in sorted(envelopes, key=lambda e: e.occurred_at):
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
        if not isinstance(payload, EngagementPayload) or is_owner_preview(payload, owners):
            continue
        visitor = payload.visitor
        unique_key = visitor_key(visitor)
        listener = listener_key(visitor) if isinstance(payload, TrackPlayed) else None
        counted = True
        if isinstance(payload, TrackPlayed) and listener is not None:
            pair = (payload.track_id, listener)
            previous = last.get(pair)
            window = dedupe_window(payload.duration_seconds, window_seconds)
            if previous is not None and abs(env.occurred_at - previous) < window:
                counted = False  # within the window on either side (events may arrive late)
            else:
                latest = max(previous, env.occurred_at) if previous else env.occurred_at
                last[pair] = effects.play_windows[pair] = latest
        effects.facts.append(
            {
                "event_id": env.event_id,
                "type": payload.TYPE,
                "link_id": payload.link_id,
                "link_kind": payload.link_kind,
                "track_id": payload.track_id,
                "pack_id": payload.pack_id,
                "organization_id": payload.organization_id,
                "user_id": visitor.user_id,
                "user_handle": visitor.user_handle,
                "user_display_name": visitor.user_display_name,
                "session_id": visitor.session_id,
                "visitor_key": unique_key,
                "listener_key": listener,
                "counted": counted,
                "source": visitor.source,
                "occurred_at": env.occurred_at,
                "trace_id": env.trace_id,
            }
        )
        counter = COUNTER_OF.get(type(payload))
        if payload.link_id and counter and counted:
            effects.link_increments.setdefault(payload.link_id, Counter())[counter] += 1
        if payload.link_id and unique_key:
            first = effects.visitors.get((payload.link_id, unique_key))
            if first is None or env.occurred_at < first:
                effects.visitors[(payload.link_id, unique_key)] = env.occurred_at
    return effects
