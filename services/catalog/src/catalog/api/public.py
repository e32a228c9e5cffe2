"""Public catalog reads (the gateway caches them): albums and public tracks."""

from __future__ import annotations

from litestar import Controller, get

from catalog.context import CatalogContext
from catalog.db import albums as repo
from catalog.views import album_detail, album_summary
from contracts.dto import AlbumDetail, AlbumSummary
from servicekit.errors import not_found


class PublicAlbumsController(Controller):
    path = "/internal/public"

    @get("/albums")
    async def list_albums(self, ctx: CatalogContext) -> dict[str, list[AlbumSummary]]:
        async with ctx.sessions() as session:
            rows = await repo.public_albums(session)
        return {"albums": [album_summary(r, ctx.settings, r.track_count) for r in rows]}

    @get("/artists/{handle:str}/albums")
    async def artist_albums(
        self, handle: str, ctx: CatalogContext
    ) -> dict[str, list[AlbumSummary]]:
        async with ctx.sessions() as session:
            rows = await repo.public_albums(session, handle)
        return {"albums": [album_summary(r, ctx.settings, r.track_count) for r in rows]}

    @get("/albums/{handle:str}/{slug:str}")
    async def album(self, handle: str, slug: str, ctx: CatalogContext) -> AlbumDetail:
        """Tracks in album order; an old slug (before a rename) still finds the album."""
        async with ctx.sessions() as session:
            row = await repo.by_handle_slug(session, handle, slug)
            track_rows = await repo.album_tracks(session, row.id, public_only=True) if row else []
        if row is None or not track_rows:
            raise not_found("album", handle=handle, slug=slug)
        return album_detail(row, track_rows, ctx.settings)
