"""An organization's links: list (newest first), read one, revoke."""

from __future__ import annotations

from contracts.dto import ShareLinkFilter, ShareLinkPage, ShareLinkSummary
from servicekit.errors import not_found
from servicekit.internal import Actor
from sharing.context import SharingContext
from sharing.db import links as repo
from sharing.service.events import emit
from sharing.service.views import link_lifecycle, link_summary


async def list_links(
    ctx: SharingContext, org_id: str, limit: int, offset: int, filters: ShareLinkFilter
) -> ShareLinkPage:
    """A page of the org's links matching `filters`; `total` counts the matching ones."""
    async with ctx.sessions() as session:
        rows, total = await repo.list_for_org(session, org_id, limit, offset, filters)
    return ShareLinkPage(
        items=[link_summary(r) for r in rows], total=total, limit=limit, offset=offset
    )


async def get_link(ctx: SharingContext, org_id: str, link_id: str) -> ShareLinkSummary:
    async with ctx.sessions() as session:
        row = await repo.by_id(session, link_id)
    if row is None or row.organization_id != org_id:
        raise not_found("share link", link_id=link_id)
    return link_summary(row)


async def revoke(ctx: SharingContext, org_id: str, link_id: str, actor: Actor) -> None:
    """The link's creator revokes it; so may the organization's owners and admins. 404 for
    a link that is not a live one of the org (or not the caller's to revoke)."""
    user_id = actor.require_user()
    async with ctx.sessions() as session, session.begin():
        row = await repo.revoke(session, org_id, link_id, None if actor.manages_org() else user_id)
        if row is None:
            raise not_found("share link", link_id=link_id)
        await emit(ctx, session, link_lifecycle(row, "revoked"))
