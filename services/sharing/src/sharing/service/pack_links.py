"""Pack links (Swayzio): opened by slug, optionally gated by an access code, downloads
optionally forbidden. Two surfaces open them: anyone's (`/internal/pack-links`) and the
signed-in one of the owner and the link's grantees (`/internal/granted-pack-links`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contracts.api.sharing import CreatePackLink, PackLinkCreated, PackPresentation
from contracts.dto import SignedUrl
from contracts.errors import ErrorCode
from contracts.events import (
    PackViewed,
    SharePreviewed,
    ShareRecorded,
    TrackDownloaded,
    TrackPlayed,
    TrackSnapshot,
)
from servicekit.errors import ApiError, not_found
from servicekit.internal import Actor
from sharing.context import SharingContext
from sharing.db import links as repo
from sharing.domain.links import (
    clean_grantees,
    clean_name,
    is_live,
    is_owners_own,
    link_expiry,
    may_open_granted,
    owned_by,
    shareable_in_order,
)
from sharing.service.engagement import Visit, record
from sharing.service.links import create_link, new_pack_slug
from sharing.service.media_urls import signed_url
from sharing.service.replicas import find_pack, find_tracks
from sharing.service.views import about, pack_link_created, pack_presentation


@dataclass(frozen=True, slots=True)
class Opening:
    """One request to open a pack link: the slug, the access code given (`?accessCode=`),
    who asks, and whether it came through the signed-in surface (`granted_only`)."""

    slug: str
    visit: Visit
    access_code: str | None = None
    granted_only: bool = False


async def create(
    ctx: SharingContext, org_id: str, pack_id: str, actor: Actor, options: CreatePackLink
) -> PackLinkCreated:
    """404 unless the caller owns the pack in this organization."""
    user_id = actor.require_user()
    pack = await find_pack(ctx, pack_id)
    if not owned_by(pack, org_id, user_id):
        raise not_found("pack", pack_id=pack_id)
    row = await create_link(
        ctx,
        {
            "kind": "pack",
            "organization_id": org_id,
            "owner_id": user_id,
            "pack_id": pack_id,
            "visibility": "link_only",
            "name": clean_name(options.name),
            "access_code_hash": await ctx.access_codes.hash(options.access_code)
            if options.access_code
            else None,
            "disable_downloads": options.disable_downloads,
            "grantees": clean_grantees(options.grantees),
            "expires_at": link_expiry(
                datetime.now(UTC), options.expires_in_days, ctx.settings.max_link_days
            ),
        },
        unique_field="slug",
        make_unique=new_pack_slug,
    )
    return pack_link_created(ctx.settings, row)


async def _open(ctx: SharingContext, opening: Opening) -> tuple[Any, Any]:
    """The live link and its live pack, once the caller passed the grant (signed-in surface)
    and the access code; the owner needs neither. A right code against an outdated hash
    replaces it. Unknown, revoked, expired, gone and not granted are the same 404."""
    slug, actor = opening.slug, opening.visit.actor
    async with ctx.sessions() as session:
        link = await repo.by_slug(session, slug)
    live = link is not None and is_live(link.revoked_at, link.expires_at, datetime.now(UTC))
    pack = await find_pack(ctx, link.pack_id) if live else None
    if not live or pack is None:
        raise not_found("pack link", slug=slug)
    if opening.granted_only and not may_open_granted(actor.user_id, actor.handle, link):
        raise not_found("pack link", slug=slug)
    if link.access_code_hash and not is_owners_own(actor.user_id, link.owner_id):
        if not opening.access_code:
            raise ApiError(ErrorCode.ACCESS_CODE_REQUIRED, "this link needs ?accessCode=")
        verdict = await ctx.access_codes.check(opening.access_code, link.access_code_hash)
        if not verdict.matches:
            raise ApiError(ErrorCode.ACCESS_CODE_INVALID, "wrong access code")
        if verdict.rehashed is not None:
            async with ctx.sessions() as session, session.begin():
                await repo.replace_access_code_hash(
                    session, link.id, link.access_code_hash, verdict.rehashed
                )
    return link, pack


async def _tracks(ctx: SharingContext, pack: Any) -> list[TrackSnapshot]:
    return shareable_in_order(pack.track_ids, await find_tracks(ctx, list(pack.track_ids)))


async def _track_in_pack(ctx: SharingContext, pack: Any, track_id: str) -> TrackSnapshot:
    if track_id not in pack.track_ids:
        raise not_found("track in this pack", track_id=track_id)
    for track in await _tracks(ctx, pack):
        if track.track_id == track_id:
            return track
    raise not_found("track in this pack", track_id=track_id)


async def presentation(ctx: SharingContext, opening: Opening) -> PackPresentation:
    """The page, and its view recorded: a preview fetcher's, bot's, HEAD or prefetch open
    (the gateway says which, SPEC §9) is served and counted apart, never as a view."""
    link, pack = await _open(ctx, opening)
    tracks = await _tracks(ctx, pack)
    visit = opening.visit
    await record(
        ctx,
        SharePreviewed(**about(link), reason=visit.preview, visitor=visit.visitor)
        if visit.preview
        else PackViewed(**about(link), visitor=visit.visitor),
        visit,
    )
    return pack_presentation(ctx.settings, link, pack, tracks)


async def share_event(ctx: SharingContext, opening: Opening, channel: str) -> None:
    link, _ = await _open(ctx, opening)
    await record(
        ctx,
        ShareRecorded(**about(link), channel=channel, visitor=opening.visit.visitor),
        opening.visit,
    )


async def playback_url(ctx: SharingContext, opening: Opening, track_id: str) -> SignedUrl:
    link, pack = await _open(ctx, opening)
    track = await _track_in_pack(ctx, pack, track_id)
    signed = await signed_url(ctx, track_id, "playback", link.id)
    # not recorded for the player's URL before a click, or renewed (the gateway's
    # `none` verdict), nor over the client's limit
    await record(
        ctx,
        TrackPlayed(
            **about(link),
            track_id=track_id,
            duration_seconds=track.duration_seconds,
            visitor=opening.visit.visitor,
        ),
        opening.visit,
    )
    return signed


async def peaks_url(ctx: SharingContext, opening: Opening, track_id: str) -> SignedUrl:
    """The waveform's signed URL, bound to the link as playback is; not a play."""
    link, pack = await _open(ctx, opening)
    await _track_in_pack(ctx, pack, track_id)
    return await signed_url(ctx, track_id, "peaks", link.id)


async def artwork_url(ctx: SharingContext, opening: Opening, track_id: str, size: int) -> SignedUrl:
    """One artwork size of a pack track, bound to the link; not a play."""
    link, pack = await _open(ctx, opening)
    await _track_in_pack(ctx, pack, track_id)
    return await signed_url(ctx, track_id, "artwork", link.id, size)


async def download_url(ctx: SharingContext, opening: Opening, track_id: str) -> SignedUrl:
    """403 when the link's owner turned downloads off; a download is recorded."""
    link, pack = await _open(ctx, opening)
    await _track_in_pack(ctx, pack, track_id)
    if link.disable_downloads:
        raise ApiError(ErrorCode.DOWNLOADS_DISABLED, "the link's owner turned downloads off")
    signed = await signed_url(ctx, track_id, "download", link.id)
    await record(
        ctx,
        TrackDownloaded(**about(link), track_id=track_id, visitor=opening.visit.visitor),
        opening.visit,
    )
    return signed
