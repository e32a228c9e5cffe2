"""Track-link opens in batches: the public hot path.

The gateway coalesces the opens that arrive while its previous call is in flight into one
call here. A batch costs one link lookup, one replica read and one outbox insert, whatever
its size, so the database work per view shrinks as load grows, and revocation still takes
effect on the very next open: nothing about a link's liveness is cached anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, post

from contracts.dto import TrackLinkOpen, TrackLinkOpenBatch, TrackLinkOpenResults
from contracts.events import EngagementPayload, ShareClicked, TrackSnapshot
from contracts.hashing import hash_secret
from servicekit.internal import Actor
from sharing.api.track_links import link_view
from sharing.api.visitors import visitor_from
from sharing.context import SharingContext
from sharing.db import links as repo
from sharing.domain.links import is_live, track_is_shareable
from sharing.events.recording import about, record_in
from sharing.tracks import find_tracks


def _actor(open_: TrackLinkOpen) -> Actor:
    return Actor(
        user_id=open_.user_id, handle=open_.user_handle, display_name=open_.user_display_name
    )


async def open_track_links(
    ctx: SharingContext, opens: list[TrackLinkOpen]
) -> list[dict[str, Any] | None]:
    """Each open's public payload (None where the link is unavailable); views recorded."""
    hashes = [hash_secret(open_.token) for open_ in opens]
    now = datetime.now(UTC)
    async with ctx.sessions() as session:
        rows = await repo.track_links_with_replicas(session, set(hashes))
        live = {h: row for h, row in rows.items() if is_live(row.revoked_at, row.expires_at, now)}
        tracks = await _tracks(ctx, live.values())
        views: dict[str, dict[str, Any]] = {}
        for token_hash, link in live.items():
            track, deleted = tracks[link.track_id]
            if track is not None and track_is_shareable(track, deleted):
                views[token_hash] = link_view(link, track).model_dump(mode="json")
        clicks: list[tuple[EngagementPayload, str | None]] = [
            (
                ShareClicked(
                    **about(live[token_hash]),
                    track_id=live[token_hash].track_id,
                    visitor=visitor_from(_actor(open_), open_.params),
                ),
                open_.trace_id,
            )
            for open_, token_hash in zip(opens, hashes, strict=True)
            if token_hash in views
        ]
        await record_in(session, ctx, clicks)
    return [views.get(token_hash) for token_hash in hashes]


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


class TrackLinkOpensController(Controller):
    path = "/internal/track-link-opens"

    @post("/", status_code=200)
    async def open_many(
        self, data: TrackLinkOpenBatch, ctx: SharingContext
    ) -> TrackLinkOpenResults:
        return TrackLinkOpenResults(views=await open_track_links(ctx, data.opens))
