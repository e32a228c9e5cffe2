"""An organization's links: list (newest first) and revoke (service/shares.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get
from litestar.params import Parameter

from contracts.dto import ShareLinkPage, ShareLinkSummary
from servicekit.internal import actor_of
from sharing.context import SharingContext
from sharing.service import shares


class SharesController(Controller):
    path = "/internal/orgs/{org_id:str}/shares"

    @get("/")
    async def list_links(
        self,
        org_id: str,
        ctx: SharingContext,
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0),
    ) -> ShareLinkPage:
        return await shares.list_links(ctx, org_id, limit, offset)

    @get("/{link_id:str}")
    async def get_link(self, org_id: str, link_id: str, ctx: SharingContext) -> ShareLinkSummary:
        return await shares.get_link(ctx, org_id, link_id)

    @delete("/{link_id:str}", status_code=204)
    async def revoke(
        self, request: Request[Any, Any, Any], org_id: str, link_id: str, ctx: SharingContext
    ) -> None:
        await shares.revoke(ctx, org_id, link_id, actor_of(request))
