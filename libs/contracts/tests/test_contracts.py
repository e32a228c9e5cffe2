import re
import uuid

import pytest
from pydantic import ValidationError

from contracts import ids, topics
from contracts.errors import ErrorCode, build_error
from contracts.events import (
    EVENT_TYPES,
    ShareClicked,
    TrackPlayed,
    UnknownEventType,
    Visitor,
    parse_event,
    wrap,
)
from contracts.hashing import hash_secret, token_preview


def test_ids_carry_their_prefix_and_differ() -> None:
    makers = {
        "usr_": ids.new_user_id,
        "org_": ids.new_organization_id,
        "mtrack_": ids.new_track_id,
        "alb_": ids.new_album_id,
        "mpack_": ids.new_pack_id,
        "split_": ids.new_split_sheet_id,
        "mslink_": ids.new_share_link_id,
        "sk_": ids.new_api_key,
    }
    for prefix, make in makers.items():
        values = {make() for _ in range(200)}
        assert len(values) == 200
        assert all(v.startswith(prefix) and len(v) > len(prefix) + 8 for v in values)


def test_share_token_is_shr_plus_32_hex() -> None:
    assert re.fullmatch(r"shr_[0-9a-f]{32}", ids.new_share_token())


def test_ref_code_is_8_url_safe_chars() -> None:
    for _ in range(100):
        assert re.fullmatch(r"[A-Za-z0-9_-]{8}", ids.new_ref_code())


def test_hash_is_sha256_and_preview_shows_the_tail() -> None:
    raw = ids.new_share_token()
    stored = hash_secret(raw)
    assert len(stored) == 64 and raw not in stored
    assert hash_secret(raw) == stored and hash_secret(raw + "x") != stored
    assert token_preview(raw) == "…" + raw[-4:]


def test_envelope_round_trips_through_json() -> None:
    env = wrap(
        TrackPlayed(track_id="mtrack_1", visitor=Visitor(visitor_id="v1")),
        producer="test",
        trace_id="req_1",
    )
    parsed = parse_event(env.model_dump_json())
    assert parsed.event_id == env.event_id
    assert isinstance(parsed.payload, TrackPlayed)
    assert parsed.payload.visitor.visitor_id == "v1"
    assert parsed.topic == topics.TRACK_PLAYED
    assert parsed.key == "mtrack_1"


def test_every_event_type_maps_to_a_known_topic() -> None:
    for model in EVENT_TYPES.values():
        assert model.TOPIC in topics.ALL_TOPICS


def test_unknown_type_and_bad_payload_are_rejected() -> None:
    with pytest.raises(UnknownEventType):
        parse_event(b'{"type": "nope", "payload": {}}')
    bad = wrap(ShareClicked(link_id="l", link_kind="track"), producer="t").model_dump(mode="json")
    bad["payload"]["link_kind"] = "nonsense"
    import json

    with pytest.raises(ValidationError):
        parse_event(json.dumps(bad))
    with pytest.raises(ValidationError):
        parse_event(b"not json")


def test_visitor_fields_are_limited_to_120_chars() -> None:
    with pytest.raises(ValidationError):
        Visitor(visitor_id="x" * 121)


def test_error_envelope_has_the_spec_shape() -> None:
    body = build_error(
        ErrorCode.RESOURCE_NOT_FOUND, "Track not found", details={"track_id": "t"}, trace_id="req_x"
    )
    data = body.model_dump(mode="json")
    assert data["success"] is False
    error = data["error"]
    assert set(error) == {
        "code",
        "message",
        "system_message",
        "type",
        "status",
        "details",
        "trace_id",
        "timestamp",
    }
    assert (
        error["status"] == 404
        and error["code"] == "RESOURCE_NOT_FOUND"
        and error["type"] == "client_error"
    )
    assert error["timestamp"].endswith("Z")
    assert build_error(ErrorCode.AUTHENTICATION_REQUIRED, "x").error.type == "authentication_error"


def test_dead_letter_topics_exist_for_every_topic() -> None:
    for topic in topics.ALL_TOPICS:
        assert topics.dead_letter_topic(topic) in topics.ALL_TOPICS_WITH_DLQ
    assert uuid.UUID(str(wrap(TrackPlayed(track_id="t"), producer="p").event_id))


def test_event_ids_are_uuid7_and_time_ordered() -> None:
    import time as _time

    from contracts.ids import new_event_id

    first = new_event_id()
    _time.sleep(0.002)
    second = new_event_id()
    assert first.version == 7 and second.version == 7
    assert first.variant == uuid.RFC_4122
    assert first < second
    assert len({new_event_id() for _ in range(10_000)}) == 10_000
