"""A small in-process cache for public catalog reads.

Entries are dropped by `catalog.lifecycle` events (see events/invalidation.py) within
milliseconds of a change, and expire after a TTL regardless, which bounds staleness even
if invalidation fails. Writes never touch the cache, so a failed invalidation cannot fail
a write.

Reads that found nothing (a 404, an empty page: anyone can ask for endless unknown handles
or offsets) are kept apart from the others, for a shorter TTL and in a smaller bound of
their own, so a flood of misses takes bounded space and never pushes a real page out.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from prometheus_client import Counter

HITS = Counter("encore_gateway_cache_hits_total", "Public cache hits")
MISSES = Counter("encore_gateway_cache_misses_total", "Public cache misses")
INVALIDATIONS = Counter("encore_gateway_cache_invalidations_total", "Entries dropped by events")

ALBUMS_TAG = "albums"


@dataclass(frozen=True, slots=True)
class Entry:
    status: int
    body: bytes
    tags: frozenset[str]
    expires_at: float


class _Bounded:
    """Least recently used entries go first once `max_entries` is reached."""

    def __init__(self, ttl_seconds: float, max_entries: int) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.entries: OrderedDict[str, Entry] = OrderedDict()

    def put(self, key: str, status: int, body: bytes, tags: set[str]) -> None:
        self.entries[key] = Entry(status, body, frozenset(tags), time.monotonic() + self.ttl)
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


class PublicCache:
    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = 10_000,
        *,
        miss_ttl_seconds: float = 5.0,
        max_misses: int = 1_000,
    ) -> None:
        self._found = _Bounded(ttl_seconds, max_entries)
        self._missing = _Bounded(min(miss_ttl_seconds, ttl_seconds), max_misses)

    def __len__(self) -> int:
        return len(self._found.entries) + len(self._missing.entries)

    def get(self, key: str) -> Entry | None:
        for part in (self._found, self._missing):
            entry = part.entries.get(key)
            if entry is None:
                continue
            if entry.expires_at < time.monotonic():
                del part.entries[key]
                break
            part.entries.move_to_end(key)
            HITS.inc()
            return entry
        MISSES.inc()
        return None

    def put(
        self, key: str, status: int, body: bytes, tags: set[str], *, found: bool = True
    ) -> None:
        """`found=False` for a read that found nothing (the caller knows what that means for
        its response); a non-200 status is never a find."""
        keep, other = (
            (self._found, self._missing)
            if found and status == 200
            else (self._missing, self._found)
        )
        other.entries.pop(key, None)
        keep.put(key, status, body, tags)

    def invalidate(self, *tags: str) -> int:
        wanted = set(tags)
        dropped = 0
        for part in (self._found, self._missing):
            doomed = [k for k, e in part.entries.items() if e.tags & wanted]
            for key in doomed:
                del part.entries[key]
            dropped += len(doomed)
        INVALIDATIONS.inc(dropped)
        return dropped

    def clear(self) -> None:
        self._found.entries.clear()
        self._missing.entries.clear()


def track_tag(track_id: str) -> str:
    return f"track:{track_id}"
