"""Listening beacons (SPEC §9), recorded as views are (track_link_opens.py, visits.py): the
request is answered once the beacons are queued; sharing gets them in batches, checks each
against its link and stores `track.listened` through its outbox.

- **Attribution**: a beacon names a track-link token, a pack-link slug, a ref code or
  nothing (an unattributed public track page). A token the gateway has cached is checked
  here (the link is live, the track is the link's) and sent on as its link id; anything
  else is checked by sharing, which drops a beacon of an unavailable link or of a track the
  link does not hold. Dropped beacons are counted, never refused: sendBeacon cannot read
  an answer, and a 4xx would only make a well-meaning player look broken.
- **Exactly once in effect**: the event id is a UUIDv5 of the beacon's content (target,
  track, visitor, session, play id, intervals), so the same beacon sent twice (a retried
  sendBeacon, a fetch fallback after a lost answer) is one event: the outbox skips an id
  it still holds, and a copy published after the first carries the same id, which
  analytics applies once (SPEC §4). And what still arrives twice adds nothing to a play's
  seconds heard: analytics keeps the union of its intervals.
- **Limits**: each anonymous beacon draws on its client's engagement budget when its
  batch is sent (ratelimit.Limiters.admit); past it, it is dropped and counted.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from prometheus_client import Counter

from contracts.api.listens import ListenBatch, ListenBeacon
from contracts.hashing import hash_secret
from gateway.db.identity import Caller
from gateway.domain.engagement import Agent
from gateway.link_cache import TrackLinkCache
from gateway.visits import CLIENT, Admit, Visit, VisitRecorder, post_batch
from servicekit.upstream import InternalClient

LISTEN_BEACONS = Counter(
    "encore_gateway_listen_beacons_total",
    "Listening beacons received by POST /v1/public/listens, by outcome (accepted, rejected)",
    ["outcome"],
)
BEACONS_DROPPED = Counter(
    "encore_gateway_listen_beacons_dropped_total",
    "Listening beacons not recorded, by reason (track_not_in_link: seen by the gateway's "
    "link cache; sharing counts the links it finds unavailable)",
    ["reason"],
)
# a fixed namespace: the same beacon gets the same event id on every replica, every time
BEACON_NAMESPACE = uuid.UUID("5b0e7f3c-2f7a-4b8e-9c61-0d3f17a2c9e4")


def beacon_event_id(beacon: ListenBeacon) -> uuid.UUID:
    """The same for the same beacon (see the module docstring): every field in a fixed
    order, as JSON (unambiguous whatever a token holds; cheaper than the model's dump)."""
    name = json.dumps(
        [
            beacon.token,
            beacon.slug,
            beacon.ref,
            beacon.trackId,
            beacon.visitorId,
            beacon.sessionId,
            beacon.playId,
            [(i.from_seconds, i.to_seconds) for i in beacon.intervals],
        ]
    )
    return uuid.uuid5(BEACON_NAMESPACE, name)


class ListenRecorder:
    def __init__(
        self, sharing: InternalClient, cache: TrackLinkCache, admit: Admit | None = None
    ) -> None:
        self.sharing = sharing
        self.cache = cache
        self.queue = VisitRecorder(self._send, queue="listen_beacons", admit=admit)

    def accept(
        self,
        batch: ListenBatch,
        caller: Caller | None,
        *,
        client: str,
        agent: Agent,
        traceparent: str | None,
    ) -> None:
        """Queue each beacon for sharing; one of a cached link's other track is dropped."""
        now = datetime.now(UTC)
        for beacon in batch.beacons:
            target = self._target(beacon)
            if target is None:
                BEACONS_DROPPED.labels("track_not_in_link").inc()
                continue
            self.queue.add(
                {
                    CLIENT: None if caller else client,
                    "event_id": beacon_event_id(beacon),
                    "occurred_at": now,
                    **target,
                    "track_id": beacon.trackId,
                    "play_id": beacon.playId,
                    "intervals": [(i.from_seconds, i.to_seconds) for i in beacon.intervals],
                    "visitor_id": beacon.visitorId,
                    "session_id": beacon.sessionId,
                    "user_id": caller.user_id if caller else None,
                    "user_handle": caller.handle if caller else None,
                    "user_display_name": caller.display_name if caller else None,
                    "device": agent.device,
                    "traceparent": traceparent,
                }
            )

    def _target(self, beacon: ListenBeacon) -> dict[str, str] | None:
        """What the beacon played through, as sharing is to look it up; None when the
        gateway's cache already shows the track is not the link's."""
        if beacon.token is not None:
            token_hash = hash_secret(beacon.token)
            cached = self.cache.get(token_hash, counted=False)
            if cached is None:
                return {"token_hash": token_hash}
            if cached.track_id != beacon.trackId:
                return None
            return {"link_id": cached.link_id}
        if beacon.slug is not None:
            return {"slug": beacon.slug}
        if beacon.ref is not None:
            return {"ref": beacon.ref}
        return {}

    async def _send(self, listens: list[Visit]) -> None:
        await post_batch(self.sharing, "/internal/listens", "listens", listens, "listen beacons")
