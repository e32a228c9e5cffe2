"""Listening beacons from the gateway (gateway/listens.py) as `track.listened` events.

A batch is checked in a fixed number of statements: its links in one, its tracks from the
replica, each pack it names once. A beacon is recorded only through a live link that holds
its track (a track link's track, a pack's tracks, a ref code's track) or, unattributed, for
a public track; anything else is dropped and counted. The event id is the gateway's (a
hash of the beacon), so a batch retried after a lost answer, or a beacon sent twice, is
one event: the outbox skips an id it still holds, and a later copy carries the same id,
which consumers apply once. Raises when it cannot store, so the gateway retries the batch.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter
from pydantic import ValidationError

from contracts.dto import ListenReport
from contracts.events import EventEnvelope, TrackListened, TrackSnapshot, Visitor, wrap
from contracts.hashing import hash_secret
from servicekit.tracing import trace_id_of
from sharing.context import PRODUCER, SharingContext
from sharing.db import links as repo
from sharing.domain.links import is_live, track_is_shareable
from sharing.events.recording import about, by_owner, store
from sharing.tracks import find_pack, find_tracks

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
    tracks = await find_tracks(ctx, sorted({r.track_id for r in listens}))
    packs: dict[str, Any] = {}
    envelopes: list[EventEnvelope[Any]] = []
    parents: list[str | None] = []  # the trace of the request each beacon came with
    for report in listens:
        if report.link_id:
            link = by_id.get(report.link_id)
        elif report.token_hash:
            link = by_hash.get(report.token_hash)
        elif report.ref:
            link = by_hash.get(hash_secret(report.ref))
        elif report.slug:
            link = by_slug.get(report.slug)
        else:
            link = None
        reason = await _refusal(ctx, report, link, tracks, packs, now)
        if reason is not None:
            LISTENS_DROPPED.labels(reason).inc()
            continue
        track, _ = tracks[report.track_id]
        assert track is not None  # _refusal checked it
        envelope = _event(report, link, track)
        if envelope is None:
            LISTENS_DROPPED.labels("invalid").inc()
        elif by_owner(envelope.payload) or (
            link is None and report.user_id and report.user_id == track.owner_id
        ):
            LISTENS_DROPPED.labels("owner").inc()
        else:
            envelopes.append(envelope)
            parents.append(report.traceparent)
    async with ctx.sessions() as session:
        return await store(session, ctx, envelopes, parents)


async def _refusal(
    ctx: SharingContext,
    report: ListenReport,
    link: Any,
    tracks: dict[str, tuple[TrackSnapshot | None, bool]],
    packs: dict[str, Any],
    now: datetime,
) -> str | None:
    """Why the beacon is not recorded, or None."""
    track, deleted = tracks.get(report.track_id, (None, True))
    named = report.link_id or report.token_hash or report.ref or report.slug
    if named:
        wanted = "pack" if report.slug else "ref" if report.ref else "track"
        if (
            link is None
            or link.kind != wanted
            or not is_live(link.revoked_at, link.expires_at, now)
        ):
            return "link_unavailable"
        if wanted == "pack":
            if link.pack_id not in packs:
                packs[link.pack_id] = await find_pack(ctx, link.pack_id)
            pack = packs[link.pack_id]
            if pack is None or report.track_id not in pack.track_ids:
                return "track_not_in_link"
        elif link.track_id != report.track_id:
            return "track_not_in_link"
    if not track_is_shareable(track, deleted):
        return "track_unavailable"
    return None


def _event(report: ListenReport, link: Any, track: TrackSnapshot) -> EventEnvelope[Any] | None:
    try:
        payload = TrackListened(
            **(about(link) if link is not None else {"organization_id": track.organization_id}),
            track_id=report.track_id,
            play_id=report.play_id,
            intervals=tuple(report.intervals),
            duration_seconds=track.duration_seconds,
            visitor=Visitor(
                user_id=report.user_id,
                user_handle=report.user_handle,
                user_display_name=report.user_display_name,
                visitor_id=report.visitor_id,
                session_id=report.session_id,
                device=report.device,
            ),
        )
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
