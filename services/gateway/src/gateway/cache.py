"""A small in-process cache for public catalog reads.

Entries are dropped by `catalog.lifecycle` events (see events/invalidation.py) within
milliseconds of a change, and expire after a TTL regardless, which bounds staleness even
if invalidation fails. Writes never touch the cache, so a failed invalidation cannot fail
a write.
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


class PublicCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Entry] = OrderedDict()

    def get(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or entry.expires_at < time.monotonic():
            self._entries.pop(key, None)
            MISSES.inc()
            return None
        self._entries.move_to_end(key)
        HITS.inc()
        return entry

    def put(self, key: str, status: int, body: bytes, tags: set[str]) -> None:
        self._entries[key] = Entry(status, body, frozenset(tags), time.monotonic() + self.ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, *tags: str) -> int:
        wanted = set(tags)
        doomed = [k for k, e in self._entries.items() if e.tags & wanted]
        for key in doomed:
            del self._entries[key]
        INVALIDATIONS.inc(len(doomed))
        return len(doomed)

    def clear(self) -> None:
        self._entries.clear()


def track_tag(track_id: str) -> str:
    return f"track:{track_id}"
