"""Split-sheet links: a capability token that shows a track's split sheet without signing in."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post

from contracts.api.sharing import (
    CreateSplitSheetLink,
    SharedContributor,
    SharedSplitSheet,
    SplitSheetLinkSummary,
    SplitSheetLinkView,
)
from contracts.dto import ShareLinkCreated
from servicekit.errors import not_found
from servicekit.internal import actor_of
from sharing.context import SharingContext
from sharing.links import create_token_link, live_token_link, public_url
from sharing.tracks import find_split_sheet, find_track


class SplitLinkCreateController(Controller):
    path = "/internal/orgs/{org_id:str}/tracks/{track_id:str}/split-sheet/share"

    @post("/", status_code=201)
    async def create(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        track_id: str,
        ctx: SharingContext,
        data: CreateSplitSheetLink | None = None,
    ) -> ShareLinkCreated:
        options = data or CreateSplitSheetLink()
        user_id = actor_of(request).require_user()
        track, deleted = await find_track(ctx, track_id)
        if track is None or deleted or track.organization_id != org_id or track.owner_id != user_id:
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
                "name": (options.name or "").strip() or None,
            },
            options.expires_in_days,
        )
        return ShareLinkCreated(
            id=row.id,
            token=token,
            url=public_url(ctx, f"/v1/public/split-sheets/{token}"),
            target_type="split_sheet",
            visibility=row.visibility,
            expires_at=row.expires_at,
            created_at=row.created_at,
        )


class SplitLinksController(Controller):
    path = "/internal/split-sheets/{token:str}"

    @get("/")
    async def open(self, token: str, ctx: SharingContext) -> SplitSheetLinkView:
        """`{link, splitSheet}`; revoked, expired and unknown are the same 404."""
        link = await live_token_link(ctx, token, "split_sheet")
        if link is None:
            raise not_found("split sheet link")
        track, deleted = await find_track(ctx, link.track_id)
        sheet = (
            await find_split_sheet(ctx, link.track_id)
            if track is not None and not deleted
            else None
        )
        if sheet is None:
            raise not_found("split sheet link")
        return SplitSheetLinkView(
            link=SplitSheetLinkSummary(
                name=link.name,
                status=sheet.status,
                tokenPreview=link.token_preview,
                trackId=link.track_id,
                created_at=link.created_at,
                updated_at=link.updated_at,
                expiresAt=link.expires_at,
            ),
            splitSheet=SharedSplitSheet(
                id=sheet.split_sheet_id,
                trackId=sheet.track_id,
                track_title=track.title if track else None,
                status=sheet.status,
                contributors=[
                    SharedContributor(
                        name=c.name, user_handle=c.user_handle, role=c.role, percentage=c.percentage
                    )
                    for c in sheet.contributors
                ],
                updated_at=sheet.updated_at,
            ),
        )
