"""Internal album endpoints (rules in service/albums.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter

from catalog.api.forms import reader
from catalog.context import CatalogContext
from catalog.service import albums
from contracts.api.catalog import (
    CreateAlbum,
    DeletedAlbum,
    FinalizeAlbum,
    RemovedAlbumTrack,
    UpdateAlbum,
)
from contracts.dto import AlbumDetail, AlbumPage, AlbumSummary
from servicekit.internal import actor_of


class AlbumsController(Controller):
    path = "/internal/orgs/{org_id:str}/albums"

    @post("/")
    async def create(
        self, request: Request[Any, Any, Any], org_id: str, data: CreateAlbum, ctx: CatalogContext
    ) -> Response[AlbumSummary]:
        """An empty shell; the same (artist, slug) again returns the existing album (200)."""
        album, created = await albums.create(ctx, org_id, actor_of(request), data)
        return Response(album, status_code=201 if created else 200)

    @get("/")
    async def list_albums(
        self,
        org_id: str,
        ctx: CatalogContext,
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0),
    ) -> AlbumPage:
        return await albums.list_albums(ctx, org_id, limit, offset)

    @get("/{album_id:str}")
    async def get_album(self, org_id: str, album_id: str, ctx: CatalogContext) -> AlbumDetail:
        return await albums.get_album(ctx, org_id, album_id)

    @post("/{album_id:str}/cover", status_code=200)
    async def upload_cover(
        self, request: Request[Any, Any, Any], org_id: str, album_id: str, ctx: CatalogContext
    ) -> AlbumSummary:
        return await albums.upload_cover(ctx, org_id, album_id, actor_of(request), reader(request))

    @post("/{album_id:str}/finalize", status_code=200)
    async def finalize(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        album_id: str,
        data: FinalizeAlbum,
        ctx: CatalogContext,
    ) -> AlbumDetail:
        """Append new tracks in the given order; the first success releases the album."""
        return await albums.finalize(ctx, org_id, album_id, actor_of(request), data.track_ids)

    @patch("/{album_id:str}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        album_id: str,
        data: UpdateAlbum,
        ctx: CatalogContext,
    ) -> AlbumSummary:
        return await albums.update(ctx, org_id, album_id, actor_of(request), data)

    @delete("/{album_id:str}/tracks/{track_id:str}", status_code=200)
    async def remove_track(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        album_id: str,
        track_id: str,
        ctx: CatalogContext,
    ) -> RemovedAlbumTrack:
        """Orphans the track: it stays as a standalone track."""
        return await albums.remove_track(ctx, org_id, album_id, track_id, actor_of(request))

    @delete("/{album_id:str}", status_code=200)
    async def delete_album(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        album_id: str,
        ctx: CatalogContext,
        cascade: bool = Parameter(default=False),
    ) -> DeletedAlbum:
        """Tracks are orphaned, or with `cascade=true` deleted (objects scheduled for removal)."""
        return await albums.delete(ctx, org_id, album_id, actor_of(request), cascade=cascade)
