"""Public catalog reads, cached: albums, an artist's albums, an album page, a track page
(service/public_catalog.py reads and caches them)."""

from __future__ import annotations

from litestar import Controller, get

from contracts.dto import AlbumDetail, AlbumPage, PublicTrack
from gateway.api.paging import LIMIT, OFFSET
from gateway.context import GatewayContext
from gateway.db.identity import Caller
from gateway.service import public_catalog


class PublicCatalogController(Controller):
    path = "/v1"

    @get("/albums")
    async def albums(
        self, ctx: GatewayContext, limit: int = LIMIT, offset: int = OFFSET
    ) -> AlbumPage:
        """Albums with at least one public track, newest release first: `{items, total,
        limit, offset}`."""
        return await public_catalog.albums(ctx, limit, offset)

    @get("/artists/{handle:str}/albums")
    async def artist_albums(
        self, handle: str, ctx: GatewayContext, limit: int = LIMIT, offset: int = OFFSET
    ) -> AlbumPage:
        """An artist's public albums, paged as `/v1/albums`."""
        return await public_catalog.artist_albums(ctx, handle, limit, offset)

    @get("/albums/{handle:str}/{slug:str}")
    async def album(self, handle: str, slug: str, ctx: GatewayContext) -> AlbumDetail:
        """Tracks in album order."""
        return await public_catalog.album(ctx, handle, slug)

    @get("/tracks/{track_id:str}")
    async def track(
        self, track_id: str, ctx: GatewayContext, caller_or_none: Caller | None
    ) -> PublicTrack:
        """A public track's page; private tracks only for their owner (never cached)."""
        return await public_catalog.public_track(track_id, ctx, caller_or_none)
