"""Split-sheet links: a capability token that shows a track's split sheet without signing in."""

from __future__ import annotations

from contracts.api.sharing import CreateSplitSheetLink, SplitSheetLinkView
from contracts.dto import ShareLinkCreated
from servicekit.errors import not_found
from servicekit.internal import Actor
from sharing.context import SharingContext
from sharing.domain.links import clean_name, owned_by
from sharing.service.links import create_token_link, live_token_link
from sharing.service.replicas import find_split_sheet, find_track
from sharing.service.views import split_sheet_view, token_link_created


async def create(
    ctx: SharingContext,
    org_id: str,
    track_id: str,
    actor: Actor,
    options: CreateSplitSheetLink,
) -> ShareLinkCreated:
    """404 unless the caller owns the track in this organization and it has a split sheet."""
    user_id = actor.require_user()
    track, deleted = await find_track(ctx, track_id)
    if deleted or not owned_by(track, org_id, user_id):
        raise not_found("track", track_id=track_id)
    sheet = await find_split_sheet(ctx, track_id)
    if sheet is None:
        raise not_found("split sheet", track_id=track_id)
    row, token = await create_token_link(
        ctx,
        {
            "kind": "split_sheet",
            "organization_id": org_id,
            "owner_id": user_id,
            "track_id": track_id,
            "split_sheet_id": sheet.split_sheet_id,
            "visibility": "link_only",
            "name": clean_name(options.name),
        },
        options.expires_in_days,
    )
    return token_link_created(ctx.settings, row, token, f"/v1/public/split-sheets/{token}")


async def open_link(ctx: SharingContext, token: str) -> SplitSheetLinkView:
    """`{link, splitSheet}`; revoked, expired, unknown and a deleted track are the same 404."""
    link = await live_token_link(ctx, token, "split_sheet")
    if link is None:
        raise not_found("split sheet link")
    track, deleted = await find_track(ctx, link.track_id)
    sheet = (
        await find_split_sheet(ctx, link.track_id) if track is not None and not deleted else None
    )
    if sheet is None:
        raise not_found("split sheet link")
    return split_sheet_view(link, sheet, track)
