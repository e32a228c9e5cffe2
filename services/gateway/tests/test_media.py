"""The media proxy's pure parts: the bounds on a stream, the per-client count, and what
the media access cache answers without asking sharing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.dto import MediaAccess
from gateway.media import ClientStreams, StreamBounds
from gateway.media_access import MediaAccessCache
from servicekit.errors import ApiError

VERSION = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_stream_has_its_grace_then_must_keep_the_minimum_rate() -> None:
    bounds = StreamBounds(max_seconds=100, min_bytes_per_second=1000, grace_seconds=5)
    assert bounds.due(10.0, 0) == 15.0
    assert bounds.due(10.0, 2000) == 17.0  # two seconds' worth at the minimum rate
    assert bounds.due(10.0, 10**9) == 110.0  # never later than the total limit


def test_a_client_past_its_stream_cap_is_refused_until_one_ends() -> None:
    streams = ClientStreams(per_client=2)
    streams.claim("a")
    streams.claim("a")
    streams.claim("b")  # another address is counted apart
    with pytest.raises(ApiError) as refused:
        streams.claim("a")
    assert refused.value.code.value == "RATE_LIMITED"
    streams.release("a")
    streams.claim("a")
    assert streams.open_for("a") == 2
    streams.release("a")
    streams.release("a")
    assert streams.open_for("a") == 0


@pytest.fixture
def cache() -> MediaAccessCache:
    cache = MediaAccessCache(ttl_seconds=60)
    cache.set_enabled(True)
    return cache


def live(pack_id: str | None = None, expires_at: datetime | None = None) -> MediaAccess:
    return MediaAccess(live=True, pack_id=pack_id, expires_at=expires_at)


def test_an_answer_of_sharing_is_kept_and_served(cache: MediaAccessCache) -> None:
    assert cache.get("l1", "t1") is None
    cache.put("l1", "t1", live(), cache.generation)
    assert cache.get("l1", "t1") is True
    assert cache.get("l1", "t2") is None  # per link and track
    cache.put("l2", "t1", MediaAccess(live=False), cache.generation)
    assert cache.get("l2", "t1") is False


def test_a_revoked_link_is_refused_without_asking(cache: MediaAccessCache) -> None:
    cache.put("l1", "t1", live(), cache.generation)
    cache.link_gone("l1")
    assert cache.get("l1", "t1") is False
    assert cache.get("l1", "t9") is False  # known gone, whatever the track


def test_a_track_made_private_or_deleted_is_refused(cache: MediaAccessCache) -> None:
    cache.put("l1", "t1", live(), cache.generation)
    cache.track_changed("t1", VERSION, public=False)
    assert cache.get("l1", "t1") is False
    cache.track_changed("t1", VERSION - timedelta(seconds=1), public=True)  # older: ignored
    assert cache.get("l1", "t1") is False
    cache.track_changed("t1", VERSION + timedelta(seconds=1), public=True)
    assert cache.get("l1", "t1") is True  # public again: the kept answer stands
    cache.track_changed("t2", None, public=True)  # deleted
    assert cache.get("l3", "t2") is False


def test_a_track_taken_out_of_a_pack_is_refused_through_its_pack_links(
    cache: MediaAccessCache,
) -> None:
    cache.put("l1", "t1", live(pack_id="p1"), cache.generation)
    cache.put("l1", "t2", live(pack_id="p1"), cache.generation)
    cache.pack_changed("p1", ["t2"])
    # kept answers from before the change are overruled when read
    assert cache.get("l1", "t1") is False
    cache.put("l1", "t2", live(pack_id="p1"), cache.generation)
    assert cache.get("l1", "t2") is True
    cache.pack_changed("p1", None)
    assert cache.get("l1", "t2") is False


def test_an_answer_asked_before_an_event_is_not_kept_and_is_overruled(
    cache: MediaAccessCache,
) -> None:
    asked_at = cache.generation
    cache.link_gone("l1")  # arrives while sharing is being asked
    cache.put("l1", "t1", live(), asked_at)
    assert cache.get("l1", "t1") is False
    assert cache.decide("l1", "t1", True, pack_id=None, expires_at=None) is False
    asked_at = cache.generation
    cache.track_changed("t5", VERSION, public=True)
    cache.put("l5", "t5", live(), asked_at)
    assert cache.get("l5", "t5") is None


def test_an_expired_link_is_refused(cache: MediaAccessCache) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    cache.put("l1", "t1", live(expires_at=past), cache.generation)
    assert cache.get("l1", "t1") is False
    assert cache.decide("l1", "t1", True, pack_id=None, expires_at=past.timestamp()) is False


def test_nothing_is_kept_while_events_do_not_flow() -> None:
    cache = MediaAccessCache(ttl_seconds=60)
    cache.put("l1", "t1", live(), cache.generation)
    assert cache.get("l1", "t1") is None
    cache.set_enabled(True)
    cache.put("l1", "t1", live(), cache.generation)
    cache.set_enabled(False)
    assert cache.get("l1", "t1") is None
