"""Turning a batch of new events into rows and increments (no I/O).

Rules that live here:
- a unique visitor is the visitorId, else the sessionId, else the signed-in user;
- a listener is the signed-in user, else the visitorId, else the sessionId;
- a listener's plays of one track count once per dedupe window (the track's duration
  clamped to 30 s - 1 h unless configured), so refreshing does not inflate plays;
- an event whose visitor is the link's owner is dropped (owner previews never count);
- an open by a preview fetcher, a bot, a HEAD or a prefetch (`share.previewed`) is a fact
  and a link's `previews`, never a view and never a unique visitor;
- a beacon (`track.listened`) makes no fact: it is merged into its play (the track, the
  listener and the player's play id), whose first beacon gives the play's link, visitor,
  device and start; what the merge adds goes to the listening counters (domain/listening.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from analytics.domain.events import Event, EventPayload, Visitor
from analytics.domain.listening import Interval, PlayState, delta, merge, parse_multirange
from contracts.events import (
    PackViewed,
    Payload,
    ShareClicked,
    ShareLinkLifecycle,
    SharePreviewed,
    ShareRecorded,
    TrackDownloaded,
    TrackListened,
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
COUNTERS = ("views", "plays", "downloads", "reshares")
# the order of a link's increments (`link_stats` columns)
LINK_COUNTERS = (*COUNTERS, "previews", "qualified_plays")
PREVIEWED = SharePreviewed.TYPE
LISTENED = TrackListened.TYPE
_SLOT = {kind: LINK_COUNTERS.index(counter) for kind, counter in COUNTER_OF_TYPE.items()}
_SLOT[PREVIEWED] = LINK_COUNTERS.index("previews")
_QUALIFIED_SLOT = LINK_COUNTERS.index("qualified_plays")
PLAYED = TrackPlayed.TYPE
LIFECYCLE = ShareLinkLifecycle.TYPE
SCOPES = ("link", "pack", "track")  # the listening counters' scopes
DAILY_COUNTERS = (
    "play_starts",
    "depth_plays",
    "qualified_plays",
    "seconds_heard",
    "reached_25",
    "reached_50",
    "reached_75",
    "reached_100",
)
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
    "browser",
    "os",
    "device_class",
    "reason",
)
# a play's attribution, from its first beacon, in the order apply.INSERT_PLAYS takes it
PLAY_COLUMNS = (
    "track_id",
    "listener_key",
    "play_id",
    "link_id",
    "link_kind",
    "pack_id",
    "organization_id",
    "user_id",
    "user_handle",
    "user_display_name",
    "visitor_key",
    "session_id",
    "source",
    "browser",
    "os",
    "device_class",
    "started_at",
)
PlayKey = tuple[str, str, str]  # track, listener, play id


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


def device_of(visitor: Visitor) -> tuple[str | None, str | None, str | None]:
    """(browser, os, device class); all None for an event recorded before devices."""
    device = visitor.device
    if device is None:
        return (None, None, None)
    return (device.browser, device.os, device.device_class)


@dataclass
class PlayBeacons:
    """A batch's beacons of one play: its attribution if it is new, what they heard."""

    attribution: tuple[Any, ...]  # PLAY_COLUMNS order (the batch's earliest beacon)
    intervals: list[Interval] = field(default_factory=list)
    duration: float | None = None
    last_heard_at: datetime | None = None


@dataclass
class BatchEffects:
    facts: list[tuple[Any, ...]] = field(default_factory=list)  # FACT_COLUMNS order
    link_increments: dict[str, list[int]] = field(default_factory=dict)  # LINK_COUNTERS order
    visitors: dict[tuple[str, str], datetime] = field(default_factory=dict)
    play_windows: dict[tuple[str, str], datetime] = field(default_factory=dict)
    links: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # apply.UPSERT_LINKS order
    beacon_claims: list[uuid.UUID] = field(default_factory=list)
    beacons: dict[PlayKey, PlayBeacons] = field(default_factory=dict)

    def link_counts(self, link: str) -> list[int]:
        if (counts := self.link_increments.get(link)) is None:
            counts = self.link_increments[link] = [0] * len(LINK_COUNTERS)
        return counts


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
        if (event.type in COUNTER_OF_TYPE or event.type in (PREVIEWED, LISTENED))
        and event.payload.link_id
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
    facts, visitors = effects.facts, effects.visitors
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
        if event.type == LISTENED:
            if not is_owner_preview(payload, owners):
                _add_beacon(effects, event)
            continue
        slot = _SLOT.get(event.type)
        if slot is None or is_owner_preview(payload, owners):
            continue
        visitor = payload.visitor
        preview = event.type == PREVIEWED
        unique_key = None if preview else visitor_key(visitor)
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
                *device_of(visitor),
                payload.reason if preview else None,
            )
        )
        link = payload.link_id
        if link:
            if counted:
                effects.link_counts(link)[slot] += 1
            if unique_key:
                first = visitors.get((link, unique_key))
                if first is None or event.occurred_at < first:
                    visitors[(link, unique_key)] = event.occurred_at
    return effects


def _add_beacon(effects: BatchEffects, event: Event) -> None:
    """Gather a beacon into its play (events come in time order: the first one attributes)."""
    payload, visitor = event.payload, event.payload.visitor
    listener = listener_key(visitor) or ""
    key = (payload.track_id or "", listener, payload.play_id or "")
    effects.beacon_claims.append(event.event_id)
    play = effects.beacons.get(key)
    if play is None:
        play = effects.beacons[key] = PlayBeacons(
            (
                *key,
                payload.link_id,
                payload.link_kind,
                payload.pack_id,
                payload.organization_id,
                visitor.user_id,
                visitor.user_handle,
                visitor.user_display_name,
                visitor_key(visitor),
                visitor.session_id,
                visitor.source,
                *device_of(visitor),
                event.occurred_at,
            )
        )
    play.intervals.extend(payload.intervals or ())
    if payload.duration_seconds is not None and payload.duration_seconds > 0:
        play.duration = max(play.duration or 0.0, payload.duration_seconds)
    play.last_heard_at = max(play.last_heard_at or event.occurred_at, event.occurred_at)


@dataclass(frozen=True, slots=True)
class StoredPlay:
    """A play's row as the transaction locked it (just inserted when `new`)."""

    key: PlayKey
    heard: str  # nummultirange text
    duration: float | None
    started_at: datetime
    link_id: str | None
    pack_id: str | None
    new: bool
    user_handle: str | None = None
    user_display_name: str | None = None


@dataclass
class ListenerTrack:
    """What a batch adds to one listener's all-time depth on one track in one scope."""

    user_handle: str | None
    user_display_name: str | None
    plays: int = 0
    union: list[Interval] = field(default_factory=list)
    furthest: float = 0.0
    duration: float | None = None


@dataclass
class ListeningEffects:
    plays: list[tuple[Any, ...]] = field(default_factory=list)  # apply.UPDATE_PLAYS order
    daily: dict[tuple[str, str, date], list[float]] = field(default_factory=dict)
    qualified_by_link: dict[str, int] = field(default_factory=dict)
    # (scope, scope_id, track, listener) -> apply.ADD_LISTENER_TRACKS
    listeners: dict[tuple[str, str, str, str], ListenerTrack] = field(default_factory=dict)


def listening_effects(
    beacons: dict[PlayKey, PlayBeacons], stored: list[StoredPlay]
) -> ListeningEffects:
    """Merge each play's new beacons into its stored union; count what that adds, per
    scope and UTC day of the play's start (DAILY_COUNTERS order)."""
    effects = ListeningEffects()
    for play in stored:
        batch = beacons[play.key]
        old = PlayState(tuple(parse_multirange(play.heard)), play.duration)
        new = old.hear(batch.intervals, batch.duration)
        change = delta(old, new)
        effects.plays.append(
            (
                *play.key,
                new.union,
                new.heard,
                new.furthest,
                new.qualified,
                new.duration,
                batch.last_heard_at,
            )
        )
        started = int(play.new)
        counts = (started, started, change.qualified, change.seconds, *change.reached)
        if not any(counts):
            continue
        day = play.started_at.astimezone(UTC).date()
        track, listener = play.key[0], play.key[1]
        for scope, scope_id in zip(SCOPES, (play.link_id, play.pack_id, track), strict=True):
            if not scope_id:
                continue
            row = effects.daily.setdefault((scope, scope_id, day), [0] * len(DAILY_COUNTERS))
            for i, n in enumerate(counts):
                row[i] += n
            depth = effects.listeners.setdefault(
                (scope, scope_id, track, listener),
                ListenerTrack(play.user_handle, play.user_display_name),
            )
            depth.plays += started
            depth.union = merge([*depth.union, *new.union])
            depth.furthest = max(depth.furthest, new.furthest)
            if new.duration is not None:
                depth.duration = max(depth.duration or 0.0, new.duration)
        if play.link_id and change.qualified:
            effects.qualified_by_link[play.link_id] = (
                effects.qualified_by_link.get(play.link_id, 0) + change.qualified
            )
    return effects
