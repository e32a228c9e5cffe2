"""Split-sheet links: create, and open by raw token (service/split_links.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post

from contracts.api.sharing import CreateSplitSheetLink, SplitSheetLinkView
from contracts.dto import ShareLinkCreated
from servicekit.internal import actor_of
from sharing.context import SharingContext
from sharing.service import split_links


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
        return await split_links.create(
            ctx, org_id, track_id, actor_of(request), data or CreateSplitSheetLink()
        )


class SplitLinksController(Controller):
    path = "/internal/split-sheets/{token:str}"

    @get("/")
    async def open(self, token: str, ctx: SharingContext) -> SplitSheetLinkView:
        """`{link, splitSheet}`; revoked, expired and unknown are the same 404."""
        return await split_links.open_link(ctx, token)
