"""The public cache: reads that found nothing are kept briefly, in a bound of their own."""

import time

import pytest

from gateway.cache import ALBUMS_TAG, PublicCache


def test_a_thousand_unknown_handles_stay_within_the_bound() -> None:
    cache = PublicCache(30, max_entries=100, max_misses=50)
    cache.put("artist:ada", 200, b'{"items": [1]}', {ALBUMS_TAG})
    for n in range(1_000):
        cache.put(f"artist:nobody-{n}:20:0", 200, b'{"items": []}', {ALBUMS_TAG}, found=False)
    assert len(cache) == 1 + 50
    assert cache.get("artist:nobody-0:20:0") is None  # the oldest misses went first
    assert cache.get("artist:nobody-999:20:0") is not None
    hit = cache.get("artist:ada")  # and no miss pushed a real page out
    assert hit is not None and hit.body == b'{"items": [1]}'


def test_found_entries_have_their_own_bound() -> None:
    cache = PublicCache(30, max_entries=3, max_misses=3)
    for n in range(10):
        cache.put(f"track:{n}", 200, b"{}", set())
    assert len(cache) == 3
    assert [cache.get(f"track:{n}") is not None for n in (6, 7, 8, 9)] == [False, True, True, True]


def test_errors_never_count_as_found() -> None:
    cache = PublicCache(30, max_entries=100, max_misses=1)
    cache.put("track:a", 404, b"{}", set())
    cache.put("track:b", 404, b"{}", set())
    assert len(cache) == 1  # both went to the misses' bound of one


def test_misses_expire_sooner(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache = PublicCache(30, miss_ttl_seconds=5)
    cache.put("found", 200, b"{}", set())
    cache.put("missing", 404, b"{}", set(), found=False)
    now[0] += 6
    assert cache.get("missing") is None
    assert cache.get("found") is not None
    now[0] += 25
    assert cache.get("found") is None


def test_a_miss_never_outlives_the_ttl_of_a_find(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache = PublicCache(2, miss_ttl_seconds=60)
    cache.put("missing", 404, b"{}", set(), found=False)
    now[0] += 3
    assert cache.get("missing") is None


def test_invalidation_and_a_later_find_replace_a_miss() -> None:
    cache = PublicCache(30)
    cache.put("artist:ada:20:0", 200, b'{"items": []}', {ALBUMS_TAG}, found=False)
    cache.put("artist:ada:20:0", 200, b'{"items": [1]}', {ALBUMS_TAG})
    assert len(cache) == 1
    cache.put("artist:bo:20:0", 200, b'{"items": []}', {ALBUMS_TAG}, found=False)
    assert cache.invalidate(ALBUMS_TAG) == 2
    assert len(cache) == 0
