"""Listening beacons from the gateway (gateway/listens.py) as `track.listened` events.

A batch is checked in a fixed number of statements: its links in one, its tracks from the
replica, each pack it names once. A beacon is recorded only through a live link that holds
its track (a track link's track, a pack's tracks, a ref code's track) or, unattributed, for
a public track (the rules: sharing/domain/listens.py); anything else is dropped and
counted. The event id is the gateway's (a hash of the beacon), so a batch retried after a
lost answer, or a beacon sent twice, is one event: the outbox skips an id it still holds,
and a later copy carries the same id, which consumers apply once. Raises when it cannot store, so the gateway retries the batch.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter
from pydantic import ValidationError

from contracts.dto import ListenReport
from contracts.events import EventEnvelope, TrackSnapshot, wrap
from contracts.hashing import hash_secret
from servicekit.tracing import trace_id_of
from sharing.context import PRODUCER, SharingContext
from sharing.db import links as repo
from sharing.domain.links import is_owners_own
from sharing.domain.listens import link_refusal, named_link, refusal, wanted_kind
from sharing.service.engagement import by_owner, store
from sharing.service.replicas import find_pack, find_tracks
from sharing.service.views import track_listened

log = logging.getLogger(__name__)

LISTENS_DROPPED = Counter(
    "encore_sharing_listens_dropped_total",
    "Listening beacons not recorded, by reason (link_unavailable, track_not_in_link, "
    "track_unavailable, owner, invalid)",
    ["reason"],
)


async def record_listens(ctx: SharingContext, listens: list[ListenReport]) -> int:
    """Store one `track.listened` per beacon that checks out, in one transaction."""
    now = datetime.now(UTC)
    async with ctx.sessions() as session:
        rows = await repo.links_for_listens(
            session,
            {r.link_id for r in listens if r.link_id},
            {r.token_hash for r in listens if r.token_hash}
            | {hash_secret(r.ref) for r in listens if r.ref},
            {r.slug for r in listens if r.slug},
        )
    by_id = {row.id: row for row in rows}
    by_hash = {row.token_hash: row for row in rows if row.token_hash}
    by_slug = {row.slug: row for row in rows if row.slug}
    links = [named_link(report, by_id, by_hash, by_slug) for report in listens]
    tracks = await find_tracks(ctx, sorted({r.track_id for r in listens}))
    packs: dict[str, Any] = {}  # each live pack link's pack, read once
    for report, link in zip(listens, links, strict=True):
        wants_pack = wanted_kind(report) == "pack" and link_refusal(report, link, now) is None
        if wants_pack and link.pack_id not in packs:
            packs[link.pack_id] = await find_pack(ctx, link.pack_id)
    envelopes: list[EventEnvelope[Any]] = []
    parents: list[str | None] = []  # the trace of the request each beacon came with
    for report, link in zip(listens, links, strict=True):
        track, deleted = tracks.get(report.track_id, (None, True))
        pack = packs.get(link.pack_id) if link is not None and link.pack_id else None
        reason = refusal(report, link, pack, track, deleted, now)
        if reason is not None:
            LISTENS_DROPPED.labels(reason).inc()
            continue
        assert track is not None  # refusal checked it
        envelope = _event(report, link, track)
        if envelope is None:
            LISTENS_DROPPED.labels("invalid").inc()
        elif by_owner(envelope.payload) or (
            link is None and is_owners_own(report.user_id, track.owner_id)
        ):
            LISTENS_DROPPED.labels("owner").inc()
        else:
            envelopes.append(envelope)
            parents.append(report.traceparent)
    async with ctx.sessions() as session:
        return await store(session, ctx, envelopes, parents)


def _event(report: ListenReport, link: Any, track: TrackSnapshot) -> EventEnvelope[Any] | None:
    try:
        payload = track_listened(report, link, track)
    except ValidationError:  # one odd beacon must not hold back its whole batch
        log.exception("listen beacon %s is not a valid event, skipped", report.event_id)
        return None
    return wrap(
        payload,
        producer=PRODUCER,
        trace_id=trace_id_of(report.traceparent),
        event_id=report.event_id,
        occurred_at=report.occurred_at,
    )
