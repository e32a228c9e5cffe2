"""The fast decoder agrees with contracts' pydantic models: same events, same poison."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from analytics.domain.events import decode, decode_fast, from_envelope
from contracts.events import (
    Device,
    PackViewed,
    Payload,
    ShareClicked,
    ShareLinkLifecycle,
    SharePreviewed,
    ShareRecorded,
    TrackDownloaded,
    TrackListened,
    TrackPlayed,
    UnknownEventType,
    Visitor,
    parse_event,
    wrap,
)

POISON = (ValidationError, UnknownEventType, ValueError)  # what the consumer dead-letters
VISITOR = Visitor(user_id="usr_1", user_handle="ada", visitor_id="v1", session_id="s1")
PAYLOADS: list[Payload] = [
    TrackPlayed(link_id="l", link_kind="track", track_id="t", duration_seconds=90, visitor=VISITOR),
    TrackDownloaded(track_id="t", visitor=VISITOR),
    PackViewed(link_id="l", link_kind="pack", pack_id="p", organization_id="o"),
    ShareClicked(link_id="l", link_kind="ref", link_owner_id="usr_2", visitor=VISITOR),
    ShareRecorded(link_id="l", channel="sms", visitor=VISITOR),
    TrackListened(
        link_id="l",
        track_id="t",
        play_id="p1",
        intervals=((0.0, 10.5), (20, 30)),
        duration_seconds=90,
        visitor=Visitor(visitor_id="v1", device=Device(browser="Chrome", os="Mac OS X")),
    ),
    SharePreviewed(link_id="l", link_kind="track", reason="preview_fetcher", visitor=VISITOR),
]


def raw_of(payload: Payload) -> bytes:
    return wrap(payload, producer="test", trace_id="tr").model_dump_json().encode()


def edited(payload: Payload, **changes: Any) -> bytes:
    """A valid event's JSON with payload (or, for `_envelope`, envelope) fields changed."""
    data = json.loads(raw_of(payload))
    data.update(changes.pop("_envelope", {}))
    data["payload"].update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.TYPE)
def test_valid_engagement_decodes_fast_to_what_contracts_says(payload: Payload) -> None:
    raw = raw_of(payload)
    event = decode_fast(raw)
    assert event is not None, "valid engagement is decoded without contracts' validation"
    assert event == from_envelope(parse_event(raw)) == decode(raw)
    assert event.payload.visitor.user_id == payload.visitor.user_id  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "raw",
    [
        edited(PAYLOADS[3], link_id=42),  # a number where contracts wants text
        edited(PAYLOADS[0], track_id=None),  # a play must name its track
        edited(PAYLOADS[3], link_kind="elsewhere"),
        edited(PAYLOADS[4], channel="x" * 121),  # longer than contracts' short text
        edited(PAYLOADS[0], visitor={"visitor_id": "v" * 121}),
        edited(PAYLOADS[0], _envelope={"type": "track.exploded"}),
        edited(PAYLOADS[0], _envelope={"event_id": "not-a-uuid"}),
        b'{"type": "share.clicked", "payload": null}',
        b"not json",
    ],
)
def test_poison_raises_what_contracts_raises(raw: bytes) -> None:
    with pytest.raises(POISON) as theirs:
        parse_event(raw)
    with pytest.raises(POISON) as ours:
        decode(raw)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)  # the dead-letter reason is contracts' own


@pytest.mark.parametrize(
    "raw",
    [
        edited(PAYLOADS[0], visitor={"visitor_id": "v\x00\x1f1", "source": "tw\x7fitter"}),
        edited(PAYLOADS[0], _envelope={"occurred_at": "2026-11-22T07:00:00"}),  # no zone
        edited(PAYLOADS[0], _envelope={"version": "1"}),  # pydantic coerces, msgspec would not
        edited(PAYLOADS[3], duration_seconds="n/a"),  # a field a click does not have
        raw_of(
            ShareLinkLifecycle(
                action="revoked", link_id="l", link_kind="pack", organization_id="o", owner_id="u"
            )
        ),
    ],
)
def test_what_msgspec_alone_would_get_wrong_is_decided_by_contracts(raw: bytes) -> None:
    assert decode_fast(raw) is None
    event = decode(raw)
    expected = from_envelope(parse_event(raw))
    assert event == expected
    assert event.occurred_at.tzinfo is not None
    assert "\x00" not in (event.payload.visitor.visitor_id or "")
