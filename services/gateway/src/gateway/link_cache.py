"""Resolved track links, kept in the gateway so that opening a link costs no upstream call.

An entry is the public payload of a live link, keyed by the SHA-256 of its token (the raw
token is never kept). It goes away when:
- `share.lifecycle` says the link was revoked or expired, or `catalog.lifecycle` says its
  track changed or was deleted (events/invalidation.py), within milliseconds;
- the link's own `expires_at` passes (checked on every open);
- its TTL runs out: the bound on staleness if invalidation events stop arriving (a broker
  outage holds revocations in sharing's outbox). Past its TTL an entry is asked for again,
  but kept: while sharing cannot answer at all, the page is served from it (`stale`) for
  at most `stale_seconds` more; once sharing answers that the token opens nothing, the
  entry is forgotten.

A resolve can race an event: sharing may answer from before a revocation, or from a track
replica that has not applied the catalog event the gateway just saw. So the cache remembers
what events said (revoked link ids, each track's newest `updated_at`, deleted tracks) and
refuses an answer older than that. It is off until the invalidation consumer holds its
partitions, and a resolve that began before it was last turned on or cleared is not stored
(`generation`): events may have passed unseen in between.
"""

from __future__ import annotations

import math
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
REFUSED = Counter(
    "encore_gateway_link_cache_refused_total",
    "Resolved track links not stored: older than an event already seen",
)
ENABLED = Gauge(
    "encore_gateway_link_cache_enabled", "1 while invalidation events are being received"
)

DELETED = math.inf  # a deleted track's "newest version": no resolve is ever newer


@dataclass(frozen=True, slots=True)
class CachedLink:
    link_id: str
    track_id: str
    body: bytes  # the public payload, serialized once
    expires_at: float | None  # the link's own expiry, Unix seconds
    stale_at: float  # monotonic: the TTL
    gone_at: float  # monotonic: past this, not even served stale


class TrackLinkCache:
    def __init__(
        self, ttl_seconds: float, stale_seconds: float = 300.0, max_entries: int = 100_000
    ) -> None:
        self.ttl = ttl_seconds
        self.stale_for = stale_seconds
        self.max_entries = max_entries
        self.generation = 0
        self.enabled = False
        self._entries: OrderedDict[str, CachedLink] = OrderedDict()
        self._by_link: dict[str, str] = {}
        self._by_track: dict[str, set[str]] = {}
        # what events said, kept (bounded) to refuse resolves that began before them
        self._revoked: OrderedDict[str, float] = OrderedDict()  # link id: when seen
        self._track_versions: OrderedDict[str, float] = OrderedDict()

    def get(self, token_hash: str, *, counted: bool = True) -> CachedLink | None:
        """The entry while it is fresh: within its TTL, and its link not expired.
        `counted=False` only looks (the caller counts the hit if it serves it)."""
        entry = self.stale(token_hash)
        if entry is None or entry.stale_at < time.monotonic():
            if counted:
                MISSES.inc()
            return None
        if counted:
            HITS.inc()
        return entry

    def stale(self, token_hash: str) -> CachedLink | None:
        """The entry even past its TTL, for when sharing cannot be asked: no event has
        dropped it, sharing has not said it is gone, it is at most `stale_seconds` past its
        TTL, and its link has not expired (an expired link is never served)."""
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if entry.gone_at < time.monotonic() or (
            entry.expires_at is not None and entry.expires_at <= time.time()
        ):
            self._remove(token_hash)
            return None
        return entry

    def forget(self, token_hash: str) -> None:
        """Sharing says this token opens nothing (any more)."""
        self._remove(token_hash)

    def put(
        self,
        token_hash: str,
        *,
        link_id: str,
        track_id: str,
        track_updated_at: datetime,
        expires_at: datetime | None,
        body: bytes,
        generation: int,
    ) -> None:
        """Store a resolved link, unless an event seen meanwhile makes it out of date."""
        if not self.enabled or self.ttl <= 0 or generation != self.generation:
            return
        if link_id in self._revoked or track_updated_at.timestamp() < self._track_versions.get(
            track_id, -math.inf
        ):
            REFUSED.inc()
            return
        self._remove(token_hash)
        now = time.monotonic()
        self._entries[token_hash] = CachedLink(
            link_id,
            track_id,
            body,
            expires_at.timestamp() if expires_at else None,
            stale_at=now + self.ttl,
            gone_at=now + self.ttl + self.stale_for,
        )
        self._by_link[link_id] = token_hash
        self._by_track.setdefault(track_id, set()).add(token_hash)
        while len(self._entries) > self.max_entries:
            self._remove(next(iter(self._entries)))

    def link_revoked(self, link_id: str) -> None:
        self._remember(self._revoked, link_id, time.time())
        token_hash = self._by_link.get(link_id)
        if token_hash is not None:
            self._remove(token_hash)
            DROPPED.inc()

    def track_changed(self, track_id: str, updated_at: datetime | None) -> None:
        """`updated_at` of the track's new version; None when it was deleted."""
        version = DELETED if updated_at is None else updated_at.timestamp()
        if version > self._track_versions.get(track_id, -math.inf):
            self._remember(self._track_versions, track_id, version)
        for token_hash in list(self._by_track.get(track_id, ())):
            self._remove(token_hash)
            DROPPED.inc()

    def set_enabled(self, enabled: bool) -> None:
        """On while invalidations flow; going off forgets everything, since events may be
        missed from here on."""
        self.enabled = enabled
        ENABLED.set(1 if enabled else 0)
        self.clear()

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_link.clear()
        self._by_track.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _remember(self, seen: OrderedDict[str, float], key: str, value: float) -> None:
        seen[key] = value
        seen.move_to_end(key)
        while len(seen) > self.max_entries:
            seen.popitem(last=False)

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
