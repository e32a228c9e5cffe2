"""Internal track endpoints; the gateway has already checked org membership."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter

from catalog.api.forms import reader
from catalog.context import CatalogContext
from catalog.service import tracks
from contracts.api.catalog import DeletedTrack, TrackPage
from contracts.dto import PublicTrack, SignedUrl, TrackView
from contracts.events import TrackSnapshot
from servicekit.internal import actor_of


class OrgTracksController(Controller):
    path = "/internal/orgs/{org_id:str}/tracks"

    @post("/", status_code=201)
    async def upload(
        self, request: Request[Any, Any, Any], org_id: str, ctx: CatalogContext
    ) -> TrackView:
        return await tracks.upload(ctx, org_id, actor_of(request), reader(request))

    @get("/")
    async def list_tracks(
        self,
        org_id: str,
        ctx: CatalogContext,
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0),
    ) -> TrackPage:
        return await tracks.list_tracks(ctx, org_id, limit, offset)

    @get("/{track_id:str}")
    async def get_track(self, org_id: str, track_id: str, ctx: CatalogContext) -> TrackView:
        return await tracks.get_track(ctx, org_id, track_id)

    @patch("/{track_id:str}")
    async def update(
        self, request: Request[Any, Any, Any], org_id: str, track_id: str, ctx: CatalogContext
    ) -> TrackView:
        """Form fields exactly as SPEC lists them; absent fields stay as they are."""
        return await tracks.update(ctx, org_id, track_id, actor_of(request), reader(request))

    @delete("/{track_id:str}", status_code=200)
    async def delete_track(
        self, request: Request[Any, Any, Any], org_id: str, track_id: str, ctx: CatalogContext
    ) -> DeletedTrack:
        """Owner only. Its objects are removed by the storage sweeper, which never forgets."""
        return await tracks.delete(ctx, org_id, track_id, actor_of(request))

    @get("/{track_id:str}/playback-url")
    async def playback_url(self, org_id: str, track_id: str, ctx: CatalogContext) -> SignedUrl:
        return await tracks.media_url(ctx, track_id, "inline", org_id=org_id)

    @get("/{track_id:str}/download-url")
    async def download_url(self, org_id: str, track_id: str, ctx: CatalogContext) -> SignedUrl:
        return await tracks.media_url(ctx, track_id, "attachment", org_id=org_id)


class TracksController(Controller):
    """Lookups by track id alone, for other services (sharing) that already hold a grant."""

    path = "/internal/tracks"

    @get("/{track_id:str}/snapshot")
    async def snapshot(self, track_id: str, ctx: CatalogContext) -> TrackSnapshot:
        return await tracks.snapshot(ctx, track_id)

    @get("/{track_id:str}/public")
    async def public(
        self, request: Request[Any, Any, Any], track_id: str, ctx: CatalogContext
    ) -> PublicTrack:
        """A public track's page; a private one only for its owner."""
        return await tracks.public(ctx, track_id, actor_of(request))

    @get("/{track_id:str}/playback-url")
    async def playback_url(
        self, track_id: str, ctx: CatalogContext, link_id: str = Parameter(query="linkId")
    ) -> SignedUrl:
        """For sharing: the URL is bound to the link it is given through (required)."""
        return await tracks.media_url(ctx, track_id, "inline", link_id=link_id)

    @get("/{track_id:str}/download-url")
    async def download_url(
        self, track_id: str, ctx: CatalogContext, link_id: str = Parameter(query="linkId")
    ) -> SignedUrl:
        return await tracks.media_url(ctx, track_id, "attachment", link_id=link_id)

    @get("/{track_id:str}/peaks-url")
    async def peaks_url(
        self, track_id: str, ctx: CatalogContext, link_id: str = Parameter(query="linkId")
    ) -> SignedUrl:
        """For sharing: the waveform of a link's track, bound to the link like playback."""
        return await tracks.media_url(ctx, track_id, "peaks", link_id=link_id)

    @get("/{track_id:str}/public-playback-url")
    async def public_playback_url(self, track_id: str, ctx: CatalogContext) -> SignedUrl:
        """For the gateway's public track page: a public track's streaming renditions,
        bound to no link (a private track is not found; 409 until the renditions exist)."""
        return await tracks.media_url(ctx, track_id, "inline")

    @get("/{track_id:str}/artwork-url")
    async def artwork_url(
        self,
        track_id: str,
        ctx: CatalogContext,
        link_id: str = Parameter(query="linkId"),
        size: int = Parameter(query="size", ge=1, le=10_000),
    ) -> SignedUrl:
        """For sharing: one artwork size of a link's track (a page's image, a card's
        og:image), bound to the link like playback; 404 if the track has no such size."""
        return await tracks.artwork_url(ctx, track_id, link_id, size)
