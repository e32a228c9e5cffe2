"""Public catalog reads, cached: albums, an artist's albums, an album page, a track page.

Anyone can ask for any handle, slug, track id or page, so what found nothing is cached
briefly and in a bound of its own (cache.py); album lists are paged like every list. The
JSON routes (api/public_catalog.py) and the web pages (web/pages.py) both read here."""

from __future__ import annotations

import json
from typing import TypeVar

from contracts.dto import AlbumDetail, AlbumPage, PublicTrack
from gateway.auth import actor
from gateway.cache import ALBUMS_TAG, track_tag
from gateway.context import GatewayContext
from gateway.db.identity import Caller
from gateway.domain.identity import normalize_handle
from gateway.forwarding import read_as
from servicekit.upstream import UpstreamError, UpstreamResponse, error_from_response, segment

T = TypeVar("T")


async def albums(ctx: GatewayContext, limit: int, offset: int) -> AlbumPage:
    """Albums with at least one public track, newest release first."""
    return await _cached(
        AlbumPage,
        ctx,
        f"albums:{limit}:{offset}",
        "/internal/public/albums",
        {ALBUMS_TAG},
        page={"limit": limit, "offset": offset},
    )


async def artist_albums(ctx: GatewayContext, handle: str, limit: int, offset: int) -> AlbumPage:
    """An artist's public albums, paged as `albums`."""
    if normalize_handle(handle) != handle:
        # no artist has it (handles are stored normalized): nothing to ask or to keep
        return AlbumPage(items=[], total=0, limit=limit, offset=offset)
    return await _cached(
        AlbumPage,
        ctx,
        f"artist:{handle}:{limit}:{offset}",
        f"/internal/public/artists/{segment(handle)}/albums",
        {ALBUMS_TAG},
        page={"limit": limit, "offset": offset},
    )


async def album(ctx: GatewayContext, handle: str, slug: str) -> AlbumDetail:
    """Tracks in album order."""
    return await _cached(
        AlbumDetail,
        ctx,
        f"album:{handle}:{slug}",
        f"/internal/public/albums/{segment(handle)}/{segment(slug)}",
        {ALBUMS_TAG},
    )


async def public_track(track_id: str, ctx: GatewayContext, caller: Caller | None) -> PublicTrack:
    """The public track as anyone sees it; private tracks only for their owner, and then
    never cached."""
    if caller is not None:
        upstream = await ctx.catalog.request(
            "GET", f"/internal/tracks/{segment(track_id)}/public", actor=actor(caller)
        )
        return read_as(PublicTrack, upstream)
    return await _cached(
        PublicTrack,
        ctx,
        f"track:{track_id}",
        f"/internal/tracks/{segment(track_id)}/public",
        {track_tag(track_id)},
    )


async def _cached(
    shape: type[T],
    ctx: GatewayContext,
    key: str,
    path: str,
    tags: set[str],
    *,
    page: dict[str, int] | None = None,
) -> T:
    """catalog's answer as `shape` (its contract model), kept as the bytes catalog sent.

    `page`: the limit and offset of a list, whose empty pages count as finding nothing.
    A 404 is kept as what it said (and raised again), never as a body with a trace id."""
    cache = ctx.public_cache
    entry = cache.get(key)
    if entry is not None:
        if entry.status == 404:
            raise error_from_response(ctx.catalog.name, UpstreamResponse(404, {}, entry.body))
        return read_as(shape, UpstreamResponse(entry.status, {}, entry.body))
    params = {name: str(value) for name, value in (page or {}).items()}
    try:
        upstream = await ctx.catalog.request("GET", path, params=params)
    except UpstreamError as exc:  # other errors (a 503, …) are not kept at all
        if exc.status == 404:
            cache.put(key, 404, _error_body(exc), tags, found=False)
        raise
    found = upstream.status_code == 200 and (page is None or bool(upstream.json()["items"]))
    cache.put(key, upstream.status_code, upstream.content, tags, found=found)
    return read_as(shape, upstream)


def _error_body(exc: UpstreamError) -> bytes:
    error = {"code": exc.code.value, "system_message": exc.system_message, "details": exc.details}
    return json.dumps({"error": error}).encode()
