"""Track links (Aitronos-style capability links): made by a public track's owner, opened by
raw token (the batched opens of the gateway are in service/track_link_opens.py)."""

from __future__ import annotations

from typing import Any

from contracts.dto import CreateTrackLink, ShareLinkCreated, SignedUrl
from contracts.errors import ErrorCode
from contracts.events import ShareRecorded, TrackPlayed, TrackSnapshot
from servicekit.errors import ApiError, not_found
from servicekit.internal import Actor
from sharing.context import SharingContext
from sharing.domain.links import owned_by, require_public, track_is_shareable
from sharing.service.engagement import Visit, record
from sharing.service.links import create_token_link, live_token_link
from sharing.service.media_urls import signed_url
from sharing.service.replicas import find_track
from sharing.service.views import about, token_link_created


def _unavailable() -> ApiError:
    # one answer for unknown, revoked, expired and deleted: nothing reveals which
    return ApiError(ErrorCode.TRACK_LINK_UNAVAILABLE, "track link unavailable")


async def create(
    ctx: SharingContext, org_id: str, track_id: str, actor: Actor, options: CreateTrackLink
) -> ShareLinkCreated:
    """404 unless the caller owns the track in this organization, 409 if it is private (its
    link would not open)."""
    user_id = actor.require_user()
    track, deleted = await find_track(ctx, track_id)
    if deleted or not owned_by(track, org_id, user_id):
        raise not_found("track", track_id=track_id)
    assert track is not None  # owned_by checked it
    require_public(track, "a private track's link would not open")
    row, token = await create_token_link(
        ctx,
        {
            "kind": "track",
            "organization_id": org_id,
            "owner_id": user_id,
            "track_id": track_id,
            "visibility": options.visibility,
        },
        options.expires_in_days,
    )
    return token_link_created(ctx.settings, row, token, f"/t/{token}")


async def _resolve(ctx: SharingContext, token: str) -> tuple[Any, TrackSnapshot]:
    link = await live_token_link(ctx, token, "track")
    if link is None:
        raise _unavailable()
    track, deleted = await find_track(ctx, link.track_id)
    if track is None or not track_is_shareable(track, deleted):
        raise _unavailable()
    return link, track


async def share_event(ctx: SharingContext, token: str, visit: Visit, channel: str) -> None:
    link, track = await _resolve(ctx, token)
    await record(
        ctx,
        ShareRecorded(
            **about(link), track_id=track.track_id, channel=channel, visitor=visit.visitor
        ),
        visit,
    )


async def peaks_url(ctx: SharingContext, token: str) -> SignedUrl:
    """The waveform's signed URL, bound to the link as playback is; not a play."""
    link, track = await _resolve(ctx, token)
    return await signed_url(ctx, track.track_id, "peaks", link.id)


async def artwork_url(ctx: SharingContext, token: str, size: int) -> SignedUrl:
    """One artwork size of the link's track, bound to the link; not a play."""
    link, track = await _resolve(ctx, token)
    return await signed_url(ctx, track.track_id, "artwork", link.id, size)


async def playback_url(ctx: SharingContext, token: str, visit: Visit) -> SignedUrl:
    link, track = await _resolve(ctx, token)
    signed = await signed_url(ctx, track.track_id, "playback", link.id)
    # not recorded for the player's URL before a click, or renewed (the gateway's
    # `none` verdict), nor over the client's limit
    await record(
        ctx,
        TrackPlayed(
            **about(link),
            track_id=track.track_id,
            duration_seconds=track.duration_seconds,
            visitor=visit.visitor,
        ),
        visit,
    )
    return signed
