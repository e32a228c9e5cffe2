"""Public catalog reads (the gateway caches them): albums and public tracks."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import Parameter

from catalog.context import CatalogContext
from catalog.db import albums as repo
from catalog.views import album_detail, album_summary
from contracts.dto import AlbumDetail, AlbumPage
from servicekit.errors import not_found


class PublicAlbumsController(Controller):
    path = "/internal/public"

    @get("/albums")
    async def list_albums(
        self,
        ctx: CatalogContext,
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0),
    ) -> AlbumPage:
        return await _page(ctx, limit, offset, None)

    @get("/artists/{handle:str}/albums")
    async def artist_albums(
        self,
        handle: str,
        ctx: CatalogContext,
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0),
    ) -> AlbumPage:
        return await _page(ctx, limit, offset, handle)

    @get("/albums/{handle:str}/{slug:str}")
    async def album(self, handle: str, slug: str, ctx: CatalogContext) -> AlbumDetail:
        """Tracks in album order; an old slug (before a rename) still finds the album."""
        async with ctx.sessions() as session:
            row = await repo.by_handle_slug(session, handle, slug)
            track_rows = await repo.album_tracks(session, row.id, public_only=True) if row else []
        if row is None or not track_rows:
            raise not_found("album", handle=handle, slug=slug)
        return album_detail(row, track_rows, ctx.settings)


async def _page(ctx: CatalogContext, limit: int, offset: int, handle: str | None) -> AlbumPage:
    async with ctx.sessions() as session:
        rows, total = await repo.public_albums(session, limit, offset, handle)
    return AlbumPage(
        items=[album_summary(r, ctx.settings, r.track_count) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
