"""Public catalog reads, cached: albums, an artist's albums, an album page, a track page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get

from gateway.auth import actor
from gateway.cache import ALBUMS_TAG, track_tag
from gateway.context import GatewayContext
from gateway.db.identity import Caller
from servicekit.upstream import segment


async def _cached(ctx: GatewayContext, key: str, path: str, tags: set[str]) -> Response[Any]:
    cache = ctx.public_cache
    entry = cache.get(key)
    if entry is None:
        upstream = await ctx.catalog.request("GET", path)  # errors raise (and are not cached)
        cache.put(key, upstream.status_code, upstream.content, tags)
        return Response(
            upstream.content, status_code=upstream.status_code, media_type="application/json"
        )
    return Response(entry.body, status_code=entry.status, media_type="application/json")


class PublicCatalogController(Controller):
    path = "/v1"

    @get("/albums")
    async def albums(self, ctx: GatewayContext) -> Response[Any]:
        """Albums with at least one public track."""
        return await _cached(ctx, "albums", "/internal/public/albums", {ALBUMS_TAG})

    @get("/artists/{handle:str}/albums")
    async def artist_albums(self, handle: str, ctx: GatewayContext) -> Response[Any]:
        return await _cached(
            ctx,
            f"artist:{handle}",
            f"/internal/public/artists/{segment(handle)}/albums",
            {ALBUMS_TAG},
        )

    @get("/albums/{handle:str}/{slug:str}")
    async def album(self, handle: str, slug: str, ctx: GatewayContext) -> Response[Any]:
        """Tracks in album order."""
        return await _cached(
            ctx,
            f"album:{handle}:{slug}",
            f"/internal/public/albums/{segment(handle)}/{segment(slug)}",
            {ALBUMS_TAG},
        )

    @get("/tracks/{track_id:str}")
    async def track(
        self, track_id: str, ctx: GatewayContext, caller_or_none: Caller | None
    ) -> Response[Any]:
        """A public track's page; private tracks only for their owner (never cached)."""
        if caller_or_none is not None:
            upstream = await ctx.catalog.request(
                "GET", f"/internal/tracks/{segment(track_id)}/public", actor=actor(caller_or_none)
            )
            return Response(
                upstream.content, status_code=upstream.status_code, media_type="application/json"
            )
        return await _cached(
            ctx,
            f"track:{track_id}",
            f"/internal/tracks/{segment(track_id)}/public",
            {track_tag(track_id)},
        )
