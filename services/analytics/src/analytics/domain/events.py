"""The events analytics applies, decoded fast and validated as contracts defines them.

contracts' pydantic models are the definition of a valid event, but validating a record
with them costs several microseconds, the largest per-record cost of ingest. msgspec
decodes the same JSON into these plain structs about five times faster. The fast path
keeps only records that pydantic would accept with the same values: a known engagement
type, its required fields present, short texts short and printable. Everything else
(link lifecycle, a control character to strip, a value msgspec is stricter about, poison)
is decided by `contracts.events.parse_event`: its result is converted, its error is what
goes to the dead-letter topic.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from contracts.events import (
    EventEnvelope,
    PackViewed,
    ShareClicked,
    SharePreviewed,
    ShareRecorded,
    TrackDownloaded,
    TrackListened,
    TrackPlayed,
    parse_event,
)

LinkKind = Literal["ref", "track", "pack", "split_sheet"]
DeviceClass = Literal["desktop", "mobile", "tablet", "bot", "other"]
PreviewReason = Literal["preview_fetcher", "bot", "head", "prefetch"]
SHORT_TEXT = 120  # contracts' ShortText
MAX_INTERVALS = 50  # contracts' TrackListened.intervals


class Device(msgspec.Struct, frozen=True, gc=False):
    browser: str | None = None
    os: str | None = None
    device_class: DeviceClass = "other"


class Visitor(msgspec.Struct, frozen=True, gc=False):
    user_id: str | None = None
    user_handle: str | None = None
    user_display_name: str | None = None
    visitor_id: str | None = None
    session_id: str | None = None
    source: str = "pack_link"
    device: Device | None = None


class EventPayload(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """Every field analytics reads from any engagement or `share.lifecycle` payload."""

    link_id: str | None = None
    link_kind: LinkKind | None = None
    link_owner_id: str | None = None
    organization_id: str | None = None
    track_id: str | None = None
    pack_id: str | None = None
    visitor: Visitor = msgspec.field(default_factory=Visitor)
    duration_seconds: float | None = None
    channel: str | None = None
    play_id: str | None = None  # track.listened
    intervals: tuple[tuple[float, float], ...] | None = None  # track.listened
    reason: PreviewReason | None = None  # share.previewed
    action: str | None = None  # share.lifecycle
    owner_id: str | None = None  # share.lifecycle


class Event(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    event_id: uuid.UUID
    type: str
    occurred_at: datetime
    producer: str
    payload: EventPayload
    version: int = 1
    trace_id: str | None = None


# required payload fields per fast-path type (contracts makes them non-optional)
REQUIRED: dict[str, tuple[str, ...]] = {
    TrackPlayed.TYPE: ("track_id",),
    TrackDownloaded.TYPE: ("track_id",),
    PackViewed.TYPE: ("pack_id", "link_id"),
    ShareClicked.TYPE: ("link_id", "link_kind"),
    ShareRecorded.TYPE: ("link_id", "channel"),
    TrackListened.TYPE: ("track_id", "play_id", "intervals"),
    SharePreviewed.TYPE: ("link_id", "link_kind", "reason"),
}


_decoder = msgspec.json.Decoder(Event)


def _short(text: str | None) -> bool:
    return text is None or (len(text) <= SHORT_TEXT and text.isprintable())


def decode(raw: bytes) -> Event:
    """One record's value as an `Event`; raises what `parse_event` raises for poison."""
    fast = decode_fast(raw)
    return fast if fast is not None else from_envelope(parse_event(raw))


def decode_fast(raw: bytes) -> Event | None:
    """The event straight from msgspec when it is engagement msgspec alone decides exactly
    as contracts would (the bulk of the stream); None when contracts must decide (another
    type, a field out of bounds, a time without zone, anything msgspec refuses)."""
    try:
        event = _decoder.decode(raw)
    except msgspec.MsgspecError:
        return None
    payload = event.payload
    visitor = payload.visitor
    required = REQUIRED.get(event.type)
    if (
        required is None
        or event.occurred_at.tzinfo is None
        or any(getattr(payload, name) is None for name in required)
        or not (
            _short(visitor.visitor_id) and _short(visitor.session_id) and _short(visitor.source)
        )
        or not _short(payload.channel)
        or not _short(payload.play_id)
        or not (payload.intervals is None or 1 <= len(payload.intervals) <= MAX_INTERVALS)
        or not (
            visitor.device is None or (_short(visitor.device.browser) and _short(visitor.device.os))
        )
    ):
        return None
    return event


def from_envelope(envelope: EventEnvelope[Any]) -> Event:
    """A validated contracts envelope as an `Event` (a time without zone is taken as UTC)."""
    event = msgspec.json.decode(envelope.model_dump_json(), type=Event)
    if event.occurred_at.tzinfo is None:
        event = msgspec.structs.replace(event, occurred_at=event.occurred_at.replace(tzinfo=UTC))
    return event
