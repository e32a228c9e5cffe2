"""Split-sheet links: a capability token that shows a track's split sheet without signing in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post
from pydantic import BaseModel, Field

from contracts import ids
from contracts.dto import ShareLinkCreated
from contracts.hashing import hash_secret, token_preview
from servicekit.errors import not_found
from servicekit.internal import actor_of
from sharing.context import SharingContext
from sharing.db import links as repo
from sharing.domain.links import is_live, link_expiry
from sharing.links import create_link, public_url
from sharing.tracks import find_split_sheet, find_track


class CreateSplitLink(BaseModel):
    name: str | None = Field(default=None, max_length=120)
    expires_in_days: int | None = Field(default=None, ge=1)


class SplitLinkCreateController(Controller):
    path = "/internal/orgs/{org_id:str}/tracks/{track_id:str}/split-sheet/share"

    @post("/", status_code=201)
    async def create(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        track_id: str,
        ctx: SharingContext,
        data: CreateSplitLink | None = None,
    ) -> ShareLinkCreated:
        options = data or CreateSplitLink()
        user_id = actor_of(request).require_user()
        track, deleted = await find_track(ctx, track_id)
        if track is None or deleted or track.organization_id != org_id or track.owner_id != user_id:
            raise not_found("track", track_id=track_id)
        sheet = await find_split_sheet(ctx, track_id)
        if sheet is None:
            raise not_found("split sheet", track_id=track_id)
        token = ids.new_share_token()
        row = await create_link(
            ctx,
            {
                "kind": "split_sheet",
                "organization_id": org_id,
                "owner_id": user_id,
                "track_id": track_id,
                "split_sheet_id": sheet.split_sheet_id,
                "visibility": "link_only",
                "name": (options.name or "").strip() or None,
                "token_hash": hash_secret(token),
                "token_preview": token_preview(token),
                "expires_at": link_expiry(
                    datetime.now(UTC), options.expires_in_days, ctx.settings.max_link_days
                ),
            },
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
    async def open(self, token: str, ctx: SharingContext) -> dict[str, Any]:
        """`{link, splitSheet}`; revoked, expired and unknown are the same 404."""
        async with ctx.sessions() as session:
            link = await repo.by_token_hash(session, hash_secret(token))
        if (
            link is None
            or link.kind != "split_sheet"
            or not is_live(link.revoked_at, link.expires_at, datetime.now(UTC))
        ):
            raise not_found("split sheet link")
        track, deleted = await find_track(ctx, link.track_id)
        sheet = (
            await find_split_sheet(ctx, link.track_id)
            if track is not None and not deleted
            else None
        )
        if sheet is None:
            raise not_found("split sheet link")
        link_envelope: dict[str, Any] = {
            "name": link.name,
            "status": sheet.status,
            "tokenPreview": link.token_preview,
            "trackId": link.track_id,
            "createdAt": link.created_at,
            "updatedAt": link.updated_at,
        }
        if link.expires_at is not None:
            link_envelope["expiresAt"] = link.expires_at
        return {
            "link": link_envelope,
            "splitSheet": {
                "id": sheet.split_sheet_id,
                "trackId": sheet.track_id,
                "trackTitle": track.title if track else None,
                "status": sheet.status,
                "contributors": [
                    {
                        "name": c.name,
                        "userHandle": c.user_handle,
                        "role": c.role,
                        "percentage": c.percentage,
                    }
                    for c in sheet.contributors
                ],
                "updatedAt": sheet.updated_at,
            },
        }
