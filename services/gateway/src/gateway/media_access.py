"""Whether the bytes of a link-bound media URL may still be served.

A media URL given out through a track or pack link names that link (catalog signs it in
the token and tells the gateway in a response header, so the gateway never reads an
unverified token). Its bytes are served only while the link is live, the track is still
in it and the track is public. Asking costs nothing in the common case:
- what events said is final: a link revoked or expired (`share.lifecycle`), a track made
  private or deleted, a pack no longer holding the track (`catalog.lifecycle`);
- otherwise a recent answer of sharing is used, for at most `ttl` seconds;
- otherwise sharing is asked (one call), and its answer kept.

Answers are kept only while the invalidation consumer holds its partitions (as in
link_cache.py): with events missed, only the TTL would bound staleness. An answer asked
for before an event arrived is not kept (`generation`), and what events said overrules a
kept answer whenever it is read (so events need not find the answers they touch; a "no"
that an event made wrong, such as a track made public again, lasts at most the TTL).
Owner URLs name no link: they are bound only to the track's existence (catalog).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from prometheus_client import Counter

from contracts.dto import MediaAccess
from servicekit.upstream import InternalClient, segment

ASKED = Counter(
    "encore_gateway_media_access_checks_total",
    "Link-bound media fetches, by where the answer came from and what it was",
    ["source", "live"],
)

V = TypeVar("V")
DELETED = math.inf  # a deleted track's "newest version": no event is ever newer


@dataclass(frozen=True, slots=True)
class _Answer:
    live: bool
    pack_id: str | None
    expires_at: float | None  # the link's own expiry, Unix seconds
    fresh_until: float  # monotonic


class MediaAccessCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 100_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.enabled = False
        self.generation = 0
        self._answers: OrderedDict[tuple[str, str], _Answer] = OrderedDict()
        # what events said (bounded): links gone, each track's newest version and whether
        # it may be served, each pack's tracks (None once deleted)
        self._gone: OrderedDict[str, None] = OrderedDict()
        self._tracks: OrderedDict[str, tuple[float, bool]] = OrderedDict()
        self._packs: OrderedDict[str, frozenset[str] | None] = OrderedDict()

    def get(self, link_id: str, track_id: str) -> bool | None:
        """The answer if one is known without asking sharing, else None."""
        if self._refused(link_id, track_id, None):
            return False
        answer = self._answers.get((link_id, track_id))
        if answer is None or answer.fresh_until < time.monotonic():
            return None
        return self.decide(
            link_id,
            track_id,
            answer.live,
            pack_id=answer.pack_id,
            expires_at=answer.expires_at,
        )

    def put(self, link_id: str, track_id: str, access: MediaAccess, generation: int) -> None:
        """Keep sharing's answer, unless an event arrived while it was being asked for."""
        if not self.enabled or self.ttl <= 0 or generation != self.generation:
            return
        key = (link_id, track_id)
        self._answers[key] = _Answer(
            access.live,
            access.pack_id,
            access.expires_at.timestamp() if access.expires_at else None,
            time.monotonic() + self.ttl,
        )
        self._answers.move_to_end(key)
        while len(self._answers) > self.max_entries:
            self._answers.popitem(last=False)

    def decide(
        self,
        link_id: str,
        track_id: str,
        live: bool,
        *,
        pack_id: str | None,
        expires_at: float | None,
    ) -> bool:
        """An answer of sharing, overruled by what events have said since."""
        if not live or (expires_at is not None and expires_at <= time.time()):
            return False
        return not self._refused(link_id, track_id, pack_id)

    def link_gone(self, link_id: str) -> None:
        """Revoked or expired: never served again."""
        self._remember(self._gone, link_id, None)
        self.generation += 1

    def track_changed(self, track_id: str, updated_at: datetime | None, public: bool) -> None:
        """`updated_at` of the track's new version; None when it was deleted."""
        version = DELETED if updated_at is None else updated_at.timestamp()
        known = self._tracks.get(track_id)
        if known is None or version >= known[0]:
            self._remember(self._tracks, track_id, (version, public and updated_at is not None))
        self.generation += 1

    def pack_changed(self, pack_id: str, track_ids: list[str] | None) -> None:
        """A pack's tracks now; None once the pack is deleted."""
        self._remember(self._packs, pack_id, None if track_ids is None else frozenset(track_ids))
        self.generation += 1

    def set_enabled(self, enabled: bool) -> None:
        """On while invalidations flow; going off forgets the answers kept."""
        self.enabled = enabled
        self.generation += 1
        self._answers.clear()

    def _refused(self, link_id: str, track_id: str, pack_id: str | None) -> bool:
        if link_id in self._gone:
            return True
        track = self._tracks.get(track_id)
        if track is not None and not track[1]:
            return True
        if pack_id is not None and pack_id in self._packs:
            tracks = self._packs[pack_id]
            return tracks is None or track_id not in tracks
        return False

    def _remember(self, seen: OrderedDict[str, V], key: str, value: V) -> None:
        seen[key] = value
        seen.move_to_end(key)
        while len(seen) > self.max_entries:
            seen.popitem(last=False)


class MediaAccessCheck:
    def __init__(self, sharing: InternalClient, cache: MediaAccessCache) -> None:
        self.sharing = sharing
        self.cache = cache

    async def allows(self, link_id: str, track_id: str) -> bool:
        known = self.cache.get(link_id, track_id)
        if known is not None:
            ASKED.labels("gateway", str(known).lower()).inc()
            return known
        generation = self.cache.generation
        access = MediaAccess.model_validate(
            await self.sharing.json(
                "GET",
                f"/internal/links/{segment(link_id)}/media-access",
                params={"trackId": track_id},
            )
        )
        self.cache.put(link_id, track_id, access, generation)
        live = self.cache.decide(
            link_id,
            track_id,
            access.live,
            pack_id=access.pack_id,
            expires_at=access.expires_at.timestamp() if access.expires_at else None,
        )
        ASKED.labels("sharing", str(live).lower()).inc()
        return live
