"""An organization's links: list (newest first) and revoke (service/shares.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get
from litestar.params import Parameter

from contracts.dto import MAX_FILTER_ID, ShareLinkFilter, ShareLinkPage, ShareLinkSummary
from contracts.events import LinkKind
from servicekit.internal import actor_of
from sharing.context import SharingContext
from sharing.service import shares

FILTER_ID = Parameter(default=None, min_length=1, max_length=MAX_FILTER_ID)


class SharesController(Controller):
    path = "/internal/orgs/{org_id:str}/shares"

    @get("/")
    async def list_links(
        self,
        org_id: str,
        ctx: SharingContext,
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0),
        kind: LinkKind | None = None,
        track_id: str | None = FILTER_ID,
        pack_id: str | None = FILTER_ID,
    ) -> ShareLinkPage:
        """Newest first; `kind`, `track_id`, `pack_id` keep only the links that match."""
        filters = ShareLinkFilter(kind=kind, track_id=track_id, pack_id=pack_id)
        return await shares.list_links(ctx, org_id, limit, offset, filters)

    @get("/{link_id:str}")
    async def get_link(self, org_id: str, link_id: str, ctx: SharingContext) -> ShareLinkSummary:
        return await shares.get_link(ctx, org_id, link_id)

    @delete("/{link_id:str}", status_code=204)
    async def revoke(
        self, request: Request[Any, Any, Any], org_id: str, link_id: str, ctx: SharingContext
    ) -> None:
        await shares.revoke(ctx, org_id, link_id, actor_of(request))
