"""Turning a batch of new events into rows and increments (no I/O).

Rules that live here:
- a unique visitor is the visitorId, else the sessionId, else the signed-in user;
- a listener is the signed-in user, else the visitorId, else the sessionId;
- a listener's plays of one track count once per dedupe window (the track's duration
  clamped to 30 s - 1 h unless configured), so refreshing does not inflate plays;
- an event whose visitor is the link's owner is dropped (owner previews never count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from analytics.domain.events import Event, EventPayload, Visitor
from contracts.events import (
    PackViewed,
    Payload,
    ShareClicked,
    ShareLinkLifecycle,
    ShareRecorded,
    TrackDownloaded,
    TrackPlayed,
)

COUNTER_OF: dict[type[Payload], str] = {
    ShareClicked: "views",
    PackViewed: "views",
    TrackPlayed: "plays",
    TrackDownloaded: "downloads",
    ShareRecorded: "reshares",
}
COUNTER_OF_TYPE = {model.TYPE: counter for model, counter in COUNTER_OF.items()}
COUNTERS = ("views", "plays", "downloads", "reshares")  # the order of a link's increments
_SLOT = {kind: COUNTERS.index(counter) for kind, counter in COUNTER_OF_TYPE.items()}
PLAYED = TrackPlayed.TYPE
LIFECYCLE = ShareLinkLifecycle.TYPE
MIN_WINDOW = 30.0
MAX_WINDOW = 3600.0

# the columns of a fact row, in the order `effects_of` builds them (and COPY sends them)
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


def is_owner_preview(payload: EventPayload, owners: dict[str, str]) -> bool:
    owner = payload.link_owner_id or (owners.get(payload.link_id) if payload.link_id else None)
    return bool(owner) and payload.visitor.user_id == owner


@dataclass
class BatchEffects:
    facts: list[tuple[Any, ...]] = field(default_factory=list)  # FACT_COLUMNS order
    link_increments: dict[str, list[int]] = field(default_factory=dict)  # COUNTERS order
    visitors: dict[tuple[str, str], datetime] = field(default_factory=dict)
    play_windows: dict[tuple[str, str], datetime] = field(default_factory=dict)
    links: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # apply.UPSERT_LINKS order


def play_keys(events: list[Event]) -> set[tuple[str, str]]:
    """(track, listener) pairs whose last counted play the batch needs to know."""
    keys = set()
    for event in events:
        track = event.payload.track_id
        if event.type == PLAYED and track and (key := listener_key(event.payload.visitor)):
            keys.add((track, key))
    return keys


def link_ids(events: list[Event]) -> set[str]:
    return {
        event.payload.link_id
        for event in events
        if event.type in COUNTER_OF_TYPE and event.payload.link_id
    }


def _when(event: Event) -> datetime:
    return event.occurred_at


def effects_of(
    events: list[Event],
    *,
    owners: dict[str, str] | None = None,
    last_plays: dict[tuple[str, str], datetime] | None = None,
    window_seconds: float | None = None,
) -> BatchEffects:
    """What applying these new (deduplicated by id) events changes."""
    owners = owners or {}
    last = dict(last_plays or {})
    effects = BatchEffects()
    facts, increments, visitors = effects.facts, effects.link_increments, effects.visitors
    fixed_window = None if window_seconds is None else dedupe_window(None, window_seconds)
    for event in sorted(events, key=_when):
        payload = event.payload
        if event.type == LIFECYCLE:
            effects.links[payload.link_id or ""] = (
                payload.link_id,
                payload.link_kind,
                payload.organization_id,
                payload.owner_id,
                payload.track_id,
                payload.pack_id,
                event.occurred_at if payload.action != "created" else None,
            )
            continue
        slot = _SLOT.get(event.type)
        if slot is None or is_owner_preview(payload, owners):
            continue
        visitor = payload.visitor
        unique_key = visitor_key(visitor)
        listener = listener_key(visitor) if event.type == PLAYED else None
        counted = True
        if listener is not None and payload.track_id is not None:
            pair = (payload.track_id, listener)
            previous = last.get(pair)
            window = (
                fixed_window
                if fixed_window is not None
                else dedupe_window(payload.duration_seconds, None)
            )
            if previous is not None and abs(event.occurred_at - previous) < window:
                counted = False  # within the window on either side (events may arrive late)
            else:
                latest = max(previous, event.occurred_at) if previous else event.occurred_at
                last[pair] = effects.play_windows[pair] = latest
        facts.append(
            (
                event.event_id,
                event.type,
                payload.link_id,
                payload.link_kind,
                payload.track_id,
                payload.pack_id,
                payload.organization_id,
                visitor.user_id,
                visitor.user_handle,
                visitor.user_display_name,
                visitor.session_id,
                unique_key,
                listener,
                counted,
                visitor.source,
                event.occurred_at,
                event.trace_id,
            )
        )
        link = payload.link_id
        if link:
            if counted:
                if (counts := increments.get(link)) is None:
                    counts = increments[link] = [0, 0, 0, 0]
                counts[slot] += 1
            if unique_key:
                first = visitors.get((link, unique_key))
                if first is None or event.occurred_at < first:
                    visitors[(link, unique_key)] = event.occurred_at
    return effects
