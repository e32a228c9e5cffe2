"""Ref codes (plyr.fm): attribution codes appended as `?ref=CODE` to a public track's URL.

They grant nothing; they attribute clicks and plays to the person who shared."""

from __future__ import annotations

from typing import Any

from contracts import ids
from contracts.api.sharing import RefShareCreated
from contracts.events import ShareClicked, SharePreviewed, TrackPlayed
from contracts.hashing import hash_secret, token_preview
from servicekit.errors import not_found
from servicekit.internal import Actor
from sharing.context import SharingContext
from sharing.db import links as repo
from sharing.domain.links import is_owners_own, require_public, visible_to
from sharing.service.engagement import Visit, record
from sharing.service.links import create_link
from sharing.service.replicas import find_track
from sharing.service.views import about, ref_share_created


async def create(
    ctx: SharingContext, track_id: str, actor: Actor, sharer_org: str | None
) -> RefShareCreated:
    """One new code per share action: 404 if the caller cannot see the track, 409 if it
    is private (its owner can see it, but nobody they share with could). The link belongs
    to the sharer's own organization (`sharer_org`), else to the track's."""
    user_id = actor.require_user()
    track, deleted = await find_track(ctx, track_id)
    if not visible_to(track, deleted, user_id):
        raise not_found("track", track_id=track_id)
    assert track is not None  # visible_to checked it
    require_public(track, "a private track cannot be shared")
    codes: list[str] = []

    def draw() -> str:
        codes.append(ids.new_ref_code())
        return hash_secret(codes[-1])

    row = await create_link(
        ctx,
        {
            "kind": "ref",
            "organization_id": sharer_org or track.organization_id,
            "owner_id": user_id,
            "track_id": track_id,
            "visibility": "public",
        },
        unique_field="token_hash",
        make_unique=draw,
        preview=lambda: token_preview(codes[-1]),
    )
    return ref_share_created(ctx.settings, row, codes[-1])


async def _live_ref(ctx: SharingContext, code: str, track_id: str) -> Any:
    """The unrevoked ref link of this code for this track, or None."""
    async with ctx.sessions() as session:
        link = await repo.by_ref_code(session, code)
    if link is None or link.track_id != track_id or link.revoked_at is not None:
        return None
    return link


async def click(ctx: SharingContext, track_id: str, code: str, visit: Visit) -> None:
    """Nothing for an unknown code (its answer reveals nothing); a bot's open is a preview
    (SPEC §9); the creator's own clicks are skipped."""
    link = await _live_ref(ctx, code, track_id)
    if link is not None:
        await record(
            ctx,
            SharePreviewed(
                **about(link), track_id=track_id, reason=visit.preview, visitor=visit.visitor
            )
            if visit.preview
            else ShareClicked(**about(link), track_id=track_id, visitor=visit.visitor),
            visit,
        )


async def play(ctx: SharingContext, track_id: str, ref: str | None, visit: Visit) -> None:
    """A client reports a listen (404 if the caller cannot see the track); with a live `ref`
    it is attributed to that link. The track's or the link's owner listening is no play."""
    actor = visit.actor
    track, deleted = await find_track(ctx, track_id)
    if not visible_to(track, deleted, actor.user_id):
        raise not_found("track", track_id=track_id)
    assert track is not None  # visible_to checked it
    link = await _live_ref(ctx, ref, track_id) if ref else None
    if is_owners_own(actor.user_id, track.owner_id):
        return
    await record(
        ctx,
        TrackPlayed(
            link_id=link.id if link else None,
            link_kind="ref" if link else None,
            link_owner_id=link.owner_id if link else None,
            organization_id=track.organization_id,
            track_id=track_id,
            duration_seconds=track.duration_seconds,
            visitor=visit.visitor,
        ),
        visit,
    )
