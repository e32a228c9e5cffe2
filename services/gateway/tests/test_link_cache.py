"""The resolved-link cache: what it serves, and every way an entry goes away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.link_cache import TrackLinkCache

VERSION = datetime(2026, 1, 1, tzinfo=UTC)  # the track's updated_at as sharing resolved it


def fill(cache: TrackLinkCache, key: str = "h1", **overrides: object) -> None:
    values: dict[str, object] = {
        "link_id": "mslink_1",
        "track_id": "mtrack_1",
        "track_updated_at": VERSION,
        "expires_at": None,
        "body": b'{"link": {}}',
        "generation": cache.generation,
    }
    values.update(overrides)
    cache.put(key, **values)  # type: ignore[arg-type]


@pytest.fixture
def cache() -> TrackLinkCache:
    cache = TrackLinkCache(ttl_seconds=60)
    cache.set_enabled(True)
    return cache


def test_a_stored_link_is_served_by_its_token_hash(cache: TrackLinkCache) -> None:
    fill(cache)
    entry = cache.get("h1")
    assert entry is not None and entry.link_id == "mslink_1" and entry.body == b'{"link": {}}'
    assert cache.get("h2") is None


def test_nothing_is_stored_until_invalidations_flow() -> None:
    cache = TrackLinkCache(ttl_seconds=60)
    fill(cache)
    assert cache.get("h1") is None


def test_losing_the_invalidation_feed_forgets_everything(cache: TrackLinkCache) -> None:
    fill(cache)
    cache.set_enabled(False)
    assert cache.get("h1") is None
    cache.set_enabled(True)
    assert cache.get("h1") is None


def test_a_resolve_begun_before_the_feed_came_back_is_not_stored(cache: TrackLinkCache) -> None:
    started = cache.generation
    cache.set_enabled(False)  # events may be missed from here...
    cache.set_enabled(True)  # ...to here
    fill(cache, generation=started)
    assert cache.get("h1") is None


def test_revocation_and_track_changes_drop_their_entries(cache: TrackLinkCache) -> None:
    fill(cache, "h1", link_id="l1", track_id="t1")
    fill(cache, "h2", link_id="l2", track_id="t1")
    fill(cache, "h3", link_id="l3", track_id="t2")
    cache.link_revoked("l3")
    assert cache.get("h3") is None
    assert cache.get("h1") is not None
    cache.track_changed("t1", VERSION + timedelta(seconds=1))
    assert cache.get("h1") is None and cache.get("h2") is None
    assert len(cache) == 0


def test_a_resolve_older_than_an_event_already_seen_is_not_stored(cache: TrackLinkCache) -> None:
    # sharing answered from before the revocation, which reached the gateway first
    cache.link_revoked("l1")
    fill(cache, link_id="l1")
    assert cache.get("h1") is None
    # sharing's replica had not applied the track change the gateway already saw
    cache.track_changed("t1", VERSION + timedelta(seconds=1))
    fill(cache, "h2", link_id="l2", track_id="t1")
    assert cache.get("h2") is None
    fill(cache, "h2", link_id="l2", track_id="t1", track_updated_at=VERSION + timedelta(seconds=1))
    assert cache.get("h2") is not None  # once it has, the answer is stored
    # an event older than what is known changes nothing
    cache.track_changed("t1", VERSION)
    fill(cache, "h3", link_id="l3", track_id="t1", track_updated_at=VERSION + timedelta(seconds=1))
    assert cache.get("h3") is not None
    # links to a deleted track are never stored again
    cache.track_changed("t2", None)
    fill(cache, "h4", link_id="l4", track_id="t2", track_updated_at=VERSION + timedelta(days=9))
    assert cache.get("h4") is None


def test_an_expired_link_is_never_served(cache: TrackLinkCache) -> None:
    fill(cache, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert cache.get("h1") is None and cache.stale("h1") is None
    fill(cache, expires_at=datetime.now(UTC) + timedelta(hours=1))
    assert cache.get("h1") is not None


def test_past_its_ttl_an_entry_is_stale_not_gone() -> None:
    cache = TrackLinkCache(ttl_seconds=1e-9)
    cache.set_enabled(True)
    fill(cache)
    assert cache.get("h1") is None
    assert cache.stale("h1") is not None
    cache.link_revoked("mslink_1")
    assert cache.stale("h1") is None


def test_a_zero_ttl_turns_the_cache_off() -> None:
    off = TrackLinkCache(ttl_seconds=0)
    off.set_enabled(True)
    fill(off)
    assert off.get("h1") is None and len(off) == 0


def test_the_cache_is_bounded_oldest_first() -> None:
    cache = TrackLinkCache(ttl_seconds=60, max_entries=2)
    cache.set_enabled(True)
    for n in range(3):
        fill(cache, f"h{n}", link_id=f"l{n}", track_id=f"t{n}")
    assert cache.get("h0") is None
    assert cache.get("h1") is not None and cache.get("h2") is not None
    cache.link_revoked("l0")  # its indexes went with it: nothing left to drop, nothing breaks
    assert len(cache) == 2
