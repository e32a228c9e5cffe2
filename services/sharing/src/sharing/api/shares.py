"""An organization's links: list (newest first) and revoke."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get
from litestar.params import Parameter

from contracts.dto import ShareLinkPage, ShareLinkSummary
from contracts.events import ShareLinkLifecycle, wrap
from servicekit.errors import not_found
from servicekit.internal import actor_of
from servicekit.tracing import current_trace_id
from sharing.context import PRODUCER, SharingContext
from sharing.db import links as repo


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
        async with ctx.sessions() as session:
            rows, total = await repo.list_for_org(session, org_id, limit, offset)
        return ShareLinkPage(
            items=[repo.summary(r) for r in rows], total=total, limit=limit, offset=offset
        )

    @get("/{link_id:str}")
    async def get_link(self, org_id: str, link_id: str, ctx: SharingContext) -> ShareLinkSummary:
        async with ctx.sessions() as session:
            row = await repo.by_id(session, link_id)
        if row is None or row.organization_id != org_id:
            raise not_found("share link", link_id=link_id)
        return repo.summary(row)

    @delete("/{link_id:str}", status_code=204)
    async def revoke(
        self, request: Request[Any, Any, Any], org_id: str, link_id: str, ctx: SharingContext
    ) -> None:
        actor = actor_of(request)
        user_id = actor.require_user()
        async with ctx.sessions() as session, session.begin():
            # the link's creator revokes it; so may the organization's owners and admins
            row = await repo.revoke(
                session, org_id, link_id, None if actor.manages_org() else user_id
            )
            if row is None:
                raise not_found("share link", link_id=link_id)
            await ctx.outbox.add(
                session,
                wrap(
                    ShareLinkLifecycle(
                        action="revoked",
                        link_id=row.id,
                        link_kind=row.kind,
                        organization_id=row.organization_id,
                        owner_id=row.owner_id,
                        track_id=row.track_id,
                        pack_id=row.pack_id,
                    ),
                    producer=PRODUCER,
                    trace_id=current_trace_id(),
                ),
            )
