"""Track-link opens, the public hot path, in two batched calls from the gateway.

- **resolve**: tokens the gateway has not cached yet, coalesced. One join against the track
  replica for the whole batch; each live link comes back with its public payload and what
  the gateway needs to cache it (see gateway/link_cache.py).
- **visits**: the opens the gateway has served, in batches, as `share.clicked` events
  (`share.previewed` for the opens the gateway found were not a person's, SPEC §9). Each
  carries the event id the gateway gave it, so a batch retried after a lost answer is
  counted once: the outbox skips an id it holds, analytics skips an id it has applied.
  Unlike other engagement recording this one raises on failure, so the gateway retries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from contracts.dto import ResolvedTrackLink, TrackLinkVisit
from contracts.events import EventEnvelope, ShareClicked, SharePreviewed, TrackSnapshot, wrap
from contracts.hashing import hash_secret
from servicekit.internal import Actor
from servicekit.tracing import trace_id_of
from sharing.context import PRODUCER, SharingContext
from sharing.db import links as repo
from sharing.domain.links import is_live, track_is_shareable
from sharing.domain.visitors import visitor_from
from sharing.service.engagement import by_owner, store
from sharing.service.replicas import find_tracks
from sharing.service.views import about, link_view

log = logging.getLogger(__name__)


async def resolve_track_links(
    ctx: SharingContext, tokens: list[str]
) -> list[ResolvedTrackLink | None]:
    """Each token's live link with its public payload; None where it is unavailable."""
    hashes = [hash_secret(token) for token in tokens]
    token_of = dict(zip(hashes, tokens, strict=True))
    now = datetime.now(UTC)
    async with ctx.sessions() as session:
        rows = await repo.track_links_with_replicas(session, set(hashes))
    live = {h: row for h, row in rows.items() if is_live(row.revoked_at, row.expires_at, now)}
    tracks = await _tracks(ctx, live.values())
    resolved: dict[str, ResolvedTrackLink] = {}
    for token_hash, link in live.items():
        track, deleted = tracks[link.track_id]
        if track is not None and track_is_shareable(track, deleted):
            resolved[token_hash] = ResolvedTrackLink(
                link_id=link.id,
                track_id=link.track_id,
                track_updated_at=track.updated_at,
                expires_at=link.expires_at,
                view=link_view(ctx.settings, link, track, token_of[token_hash]),
            )
    return [resolved.get(token_hash) for token_hash in hashes]


async def _tracks(
    ctx: SharingContext, links: Iterable[Any]
) -> dict[str, tuple[TrackSnapshot | None, bool]]:
    """The links' tracks from the replica columns joined in; catalog is asked only for a
    track the replica has not seen yet (a link opened before its track's event arrived)."""
    tracks: dict[str, tuple[TrackSnapshot | None, bool]] = {}
    for link in links:
        if link.track_deleted_at is not None:
            tracks[link.track_id] = (None, True)
        elif link.snapshot is not None and link.track_id not in tracks:
            tracks[link.track_id] = (TrackSnapshot.model_validate_json(link.snapshot), False)
    unknown = [link.track_id for link in links if link.track_id not in tracks]
    if unknown:
        tracks.update(await find_tracks(ctx, sorted(set(unknown))))
    return tracks


async def record_visits(ctx: SharingContext, visits: list[TrackLinkVisit]) -> int:
    """Store one `share.clicked` per visit in one transaction; raises if it cannot."""
    async with ctx.sessions() as session:
        links = await repo.track_links_by_id(session, {visit.link_id for visit in visits})
        envelopes: list[EventEnvelope[Any]] = []
        parents: list[str | None] = []  # the trace of the open each visit came from
        for visit in visits:
            link = links.get(visit.link_id)
            if link is None:
                continue
            try:
                visitor = visitor_from(_actor(visit), visit.params, device=visit.device)
                click: ShareClicked | SharePreviewed = (
                    SharePreviewed(
                        **about(link), track_id=link.track_id, reason=visit.preview, visitor=visitor
                    )
                    if visit.preview
                    else ShareClicked(**about(link), track_id=link.track_id, visitor=visitor)
                )
            except ValidationError:  # one odd visit must not hold back its whole batch
                log.exception("track-link visit %s is not a valid event, skipped", visit.event_id)
                continue
            if not by_owner(click):
                envelopes.append(
                    wrap(
                        click,
                        producer=PRODUCER,
                        trace_id=trace_id_of(visit.traceparent),
                        event_id=visit.event_id,
                        occurred_at=visit.occurred_at,
                    )
                )
                parents.append(visit.traceparent)
        return await store(session, ctx, envelopes, parents)


def _actor(visit: TrackLinkVisit) -> Actor:
    return Actor(
        user_id=visit.user_id, handle=visit.user_handle, display_name=visit.user_display_name
    )
