"""An organization's share links with their numbers: what `GET /v1/music/{org}/shares`
answers and the dashboard's link list shows, from one definition. One call to sharing for
the page, one to analytics for all of its stats. Creating and revoking links (and a
signed-in listener's ref codes) go through here too."""

from __future__ import annotations

from pydantic import BaseModel, TypeAdapter

from contracts.api.sharing import CreatePackLink, PackLinkCreated, RefShareCreated
from contracts.dto import (
    CreateTrackLink,
    LinkStats,
    ShareLinkCreated,
    ShareLinkFilter,
    ShareLinkPage,
    ShareLinkSummary,
)
from gateway.auth import Membership, actor
from gateway.context import GatewayContext
from gateway.db.identity import Caller
from servicekit.internal import ORG_ID_HEADER, ORG_ROLE_HEADER
from servicekit.upstream import segment

LINK_STATS = TypeAdapter(dict[str, LinkStats])
NO_FILTER = ShareLinkFilter()


async def list_links(
    ctx: GatewayContext,
    membership: Membership,
    limit: int,
    offset: int,
    filters: ShareLinkFilter = NO_FILTER,
) -> ShareLinkPage:
    """A page of the organization's links that match `filters` (sharing filters them),
    newest first, stats left at their defaults."""
    listed = await ctx.sharing.request(
        "GET",
        f"/internal/orgs/{segment(membership.organization_id)}/shares",
        params={"limit": str(limit), "offset": str(offset), **filters.query()},
        actor=actor(membership.caller),
    )
    return ShareLinkPage.model_validate_json(listed.content)


async def link_stats(ctx: GatewayContext, link_ids: list[str]) -> dict[str, LinkStats]:
    """The counters of many links in one call to analytics."""
    if not link_ids:
        return {}
    counted = await ctx.analytics.request(
        "GET", "/internal/stats/links", params={"ids": ",".join(link_ids)}
    )
    return LINK_STATS.validate_json(counted.content)


def with_stats(items: list[ShareLinkSummary], stats: dict[str, LinkStats]) -> None:
    for item in items:
        item.stats = stats.get(item.id, item.stats)


async def list_links_with_stats(
    ctx: GatewayContext,
    membership: Membership,
    limit: int,
    offset: int,
    filters: ShareLinkFilter = NO_FILTER,
) -> ShareLinkPage:
    page = await list_links(ctx, membership, limit, offset, filters)
    with_stats(page.items, await link_stats(ctx, [item.id for item in page.items]))
    return page


async def get_link(ctx: GatewayContext, membership: Membership, link_id: str) -> ShareLinkSummary:
    """One link of the organization (404 for any other)."""
    org = segment(membership.organization_id)
    found = await ctx.sharing.request(
        "GET", f"/internal/orgs/{org}/shares/{segment(link_id)}", actor=actor(membership.caller)
    )
    return ShareLinkSummary.model_validate_json(found.content)


async def create_track_link(
    ctx: GatewayContext, membership: Membership, track_id: str, options: CreateTrackLink
) -> ShareLinkCreated:
    """A track link; the raw token is in this answer only."""
    created = await _create(ctx, membership, f"tracks/{segment(track_id)}", options)
    return ShareLinkCreated.model_validate_json(created)


async def create_pack_link(
    ctx: GatewayContext, membership: Membership, pack_id: str, options: CreatePackLink
) -> PackLinkCreated:
    created = await _create(ctx, membership, f"packs/{segment(pack_id)}", options)
    return PackLinkCreated.model_validate_json(created)


async def _create(
    ctx: GatewayContext, membership: Membership, target: str, options: BaseModel
) -> bytes:
    """Sharing's answer to sharing `target` (with the caller's role: sharing checks it)."""
    upstream = await ctx.sharing.request(
        "POST",
        f"/internal/orgs/{segment(membership.organization_id)}/{target}/share",
        actor=actor(membership.caller),
        headers={ORG_ROLE_HEADER: membership.role, "content-type": "application/json"},
        content=options.model_dump_json(exclude_unset=True),
    )
    return upstream.content


async def revoke_link(ctx: GatewayContext, membership: Membership, link_id: str) -> None:
    """Revoked in sharing, and at once in this replica's caches (other replicas drop it on
    the `share.lifecycle` event)."""
    org = segment(membership.organization_id)
    await ctx.sharing.request(
        "DELETE",
        f"/internal/orgs/{org}/shares/{segment(link_id)}",
        actor=actor(membership.caller),
        headers={ORG_ROLE_HEADER: membership.role},
    )
    ctx.track_link_opens.cache.link_revoked(link_id)
    ctx.media_access.cache.link_gone(link_id)  # and its media URLs stop playing


async def create_ref_share(ctx: GatewayContext, caller: Caller, track_id: str) -> RefShareCreated:
    """A ref code (plyr.fm) of a public track, made in the caller's personal organization."""
    upstream = await ctx.sharing.request(
        "POST",
        f"/internal/tracks/{segment(track_id)}/shares",
        actor=actor(caller),
        headers={ORG_ID_HEADER: caller.personal_organization_id or ""},
    )
    return RefShareCreated.model_validate_json(upstream.content)
