"""Public catalog reads (the gateway caches them): albums and public tracks."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import Parameter

from catalog.context import CatalogContext
from catalog.service import albums
from contracts.dto import AlbumDetail, AlbumPage


class PublicAlbumsController(Controller):
    path = "/internal/public"

    @get("/albums")
    async def list_albums(
        self,
        ctx: CatalogContext,
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0),
    ) -> AlbumPage:
        return await albums.public_albums(ctx, limit, offset)

    @get("/artists/{handle:str}/albums")
    async def artist_albums(
        self,
        handle: str,
        ctx: CatalogContext,
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0),
    ) -> AlbumPage:
        return await albums.public_albums(ctx, limit, offset, handle)

    @get("/albums/{handle:str}/{slug:str}")
    async def album(self, handle: str, slug: str, ctx: CatalogContext) -> AlbumDetail:
        """Tracks in album order; an old slug (before a rename) still finds the album."""
        return await albums.public_album(ctx, handle, slug)
