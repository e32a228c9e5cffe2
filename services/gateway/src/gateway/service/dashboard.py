"""What the dashboard's pages read besides reports (service/reports.py): the artist's
track and pack titles, and a filtered page of their links with the links' numbers, all
through the same internal calls as the JSON API (service/share_links.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from contracts.api.catalog import PackPage, TrackPage
from contracts.dto import ShareLinkFilter, ShareLinkSummary
from contracts.errors import default_status
from gateway.auth import Membership, actor
from gateway.context import GatewayContext
from gateway.service.share_links import link_stats, list_links, with_stats
from servicekit.errors import ApiError
from servicekit.internal import ORG_ROLE_HEADER
from servicekit.upstream import segment

PAGE_SIZE = 20


def unavailable(exc: ApiError) -> bool:
    """A service behind the page is down (a 5xx): the page shows what it has without it."""
    return default_status(exc.code) >= 500


async def _catalog_page(ctx: GatewayContext, m: Membership, kind: str, model: Any) -> Any:
    found = await ctx.catalog.request(
        "GET",
        f"/internal/orgs/{segment(m.organization_id)}/{kind}",
        params={"limit": "100"},
        actor=actor(m.caller),
        headers={ORG_ROLE_HEADER: m.role},
    )
    return model.model_validate_json(found.content)


async def titles(ctx: GatewayContext, m: Membership) -> tuple[dict[str, str], dict[str, str]]:
    """The artist's tracks and packs by id (their newest 100 of each), for names and filters."""
    tracks, packs = await asyncio.gather(
        _catalog_page(ctx, m, "tracks", TrackPage), _catalog_page(ctx, m, "packs", PackPage)
    )
    return {t.id: t.title for t in tracks.items}, {p.id: p.title for p in packs.items}


async def filtered_links(
    ctx: GatewayContext, m: Membership, filters: ShareLinkFilter, offset: int
) -> tuple[list[ShareLinkSummary], int]:
    """A page of the links that match, newest first, and how many match: one call to
    sharing, which filters in SQL, whatever the filter and however many links there are."""
    listed = await list_links(ctx, m, PAGE_SIZE, offset, filters)
    return listed.items, listed.total


async def links_with_stats(
    ctx: GatewayContext, m: Membership, filters: ShareLinkFilter, offset: int
) -> tuple[list[ShareLinkSummary], int, bool]:
    """The page of links with their numbers (asked for as soon as the page is known, while
    the titles are still on their way); True when analytics could not be reached."""
    items, total = await filtered_links(ctx, m, filters, offset)
    try:
        with_stats(items, await link_stats(ctx, [item.id for item in items]))
    except ApiError as exc:
        if not unavailable(exc):
            raise
        return items, total, True
    return items, total, False
