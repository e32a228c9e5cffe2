"""Which listening beacons are recorded (sharing/domain/listens.py), without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from contracts.dto import ListenReport
from contracts.events import TrackSnapshot
from contracts.hashing import hash_secret
from sharing.domain.listens import named_link, refusal

NOW = datetime(2026, 6, 28, 10, 30, tzinfo=UTC)


def beacon(**fields: Any) -> ListenReport:
    return ListenReport(
        event_id=uuid.uuid4(),
        occurred_at=NOW,
        track_id=fields.pop("track_id", "t1"),
        play_id="p1",
        intervals=[(0.0, 5.0)],
        **fields,
    )


def link(kind: str, **fields: Any) -> Any:
    values = {"revoked_at": None, "expires_at": None, "track_id": "t1", "pack_id": None}
    return SimpleNamespace(kind=kind, **{**values, **fields})


def track(visibility: str = "public") -> TrackSnapshot:
    return TrackSnapshot(
        track_id="t1",
        organization_id="org_a",
        owner_id="usr_a",
        title="Tone",
        visibility=visibility,
        content_type="audio/mpeg",
        size_bytes=1,
        created_at=NOW,
        updated_at=NOW,
    )


def test_a_beacon_names_its_link_by_id_token_hash_ref_code_or_slug() -> None:
    by_id, by_hash, by_slug = {"l1": "by id"}, {hash_secret("code"): "by ref"}, {"s": "by slug"}
    assert named_link(beacon(link_id="l1"), by_id, by_hash, by_slug) == "by id"
    assert named_link(beacon(ref="code"), by_id, by_hash, by_slug) == "by ref"
    assert named_link(beacon(slug="s"), by_id, by_hash, by_slug) == "by slug"
    assert named_link(beacon(), by_id, by_hash, by_slug) is None


def test_through_a_live_link_that_holds_its_public_track() -> None:
    assert refusal(beacon(link_id="l1"), link("track"), None, track(), False, NOW) is None
    pack = SimpleNamespace(track_ids=["t0", "t1"])
    assert refusal(beacon(slug="s"), link("pack", pack_id="p"), pack, track(), False, NOW) is None


def test_a_link_of_another_kind_revoked_or_expired_is_unavailable() -> None:
    gone = NOW - timedelta(seconds=1)
    for report, row in (
        (beacon(link_id="l1"), None),
        (beacon(link_id="l1"), link("pack")),
        (beacon(ref="code"), link("ref", revoked_at=gone)),
        (beacon(token_hash="h"), link("track", expires_at=gone)),
    ):
        assert refusal(report, row, None, track(), False, NOW) == "link_unavailable"


def test_a_track_the_link_does_not_hold_or_that_is_not_public_is_refused() -> None:
    other = beacon(link_id="l1", track_id="t2")
    assert refusal(other, link("track"), None, track(), False, NOW) == "track_not_in_link"
    in_gone_pack = beacon(slug="s")
    assert refusal(in_gone_pack, link("pack"), None, track(), False, NOW) == "track_not_in_link"
    assert refusal(beacon(), None, None, track("private"), False, NOW) == "track_unavailable"
    assert refusal(beacon(), None, None, None, True, NOW) == "track_unavailable"
