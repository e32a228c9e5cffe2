"""Resolved track links, kept in the gateway so that opening a link costs no upstream call.

An entry is the public payload of a live link, keyed by the SHA-256 of its token (the raw
token is never kept). It goes away when:
- `share.lifecycle` says the link was revoked or expired, or `catalog.lifecycle` says its
  track changed or was deleted (events/invalidation.py), within milliseconds;
- the link's own `expires_at` passes (checked on every open);
- its TTL runs out: the bound on staleness if invalidation events stop arriving (a broker
  outage holds revocations in sharing's outbox).

The cache is off until the invalidation consumer has its partitions: entries stored before
that could miss a revocation. A resolve that overlaps any invalidation is not stored
(`generation`), so a fill can never bring back what an event just dropped.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter, Gauge

HITS = Counter("encore_gateway_link_cache_hits_total", "Track-link opens served from the cache")
MISSES = Counter("encore_gateway_link_cache_misses_total", "Track-link opens resolved by sharing")
DROPPED = Counter(
    "encore_gateway_link_cache_invalidations_total", "Cached track links dropped by events"
)
ENABLED = Gauge(
    "encore_gateway_link_cache_enabled", "1 while invalidation events are being received"
)


@dataclass(frozen=True, slots=True)
class CachedLink:
    link_id: str
    track_id: str
    body: bytes  # the public payload, serialized once
    expires_at: float | None  # the link's own expiry, Unix seconds
    stale_at: float  # monotonic: the TTL


class TrackLinkCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 100_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.generation = 0
        self.enabled = False
        self._entries: OrderedDict[str, CachedLink] = OrderedDict()
        self._by_link: dict[str, str] = {}
        self._by_track: dict[str, set[str]] = {}

    def get(self, token_hash: str) -> CachedLink | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            MISSES.inc()
            return None
        if entry.stale_at < time.monotonic() or (
            entry.expires_at is not None and entry.expires_at <= time.time()
        ):
            self._remove(token_hash)
            MISSES.inc()
            return None
        HITS.inc()
        return entry

    def put(
        self,
        token_hash: str,
        *,
        link_id: str,
        track_id: str,
        expires_at: datetime | None,
        body: bytes,
        generation: int,
    ) -> None:
        """Store a resolved link, unless an invalidation came since `generation` was read."""
        if not self.enabled or self.ttl <= 0 or generation != self.generation:
            return
        self._remove(token_hash)
        self._entries[token_hash] = CachedLink(
            link_id,
            track_id,
            body,
            expires_at.timestamp() if expires_at else None,
            time.monotonic() + self.ttl,
        )
        self._by_link[link_id] = token_hash
        self._by_track.setdefault(track_id, set()).add(token_hash)
        while len(self._entries) > self.max_entries:
            self._remove(next(iter(self._entries)))

    def drop_link(self, link_id: str) -> None:
        self.generation += 1
        token_hash = self._by_link.get(link_id)
        if token_hash is not None:
            self._remove(token_hash)
            DROPPED.inc()

    def drop_track(self, track_id: str) -> None:
        self.generation += 1
        for token_hash in list(self._by_track.get(track_id, ())):
            self._remove(token_hash)
            DROPPED.inc()

    def set_enabled(self, enabled: bool) -> None:
        """On while invalidations flow; going off forgets everything, since events may be
        missed from here on."""
        self.enabled = enabled
        ENABLED.set(1 if enabled else 0)
        if not enabled:
            self.clear()

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_link.clear()
        self._by_track.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _remove(self, token_hash: str) -> None:
        entry = self._entries.pop(token_hash, None)
        if entry is None:
            return
        self._by_link.pop(entry.link_id, None)
        hashes = self._by_track.get(entry.track_id)
        if hashes is not None:
            hashes.discard(token_hash)
            if not hashes:
                del self._by_track[entry.track_id]
