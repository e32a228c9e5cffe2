"""Pack links: the same surface for anonymous visitors (`/internal/pack-links`) and for
signed-in owners or grantees (`/internal/granted-pack-links`); rules in
service/pack_links.py."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post

from contracts.api.sharing import (
    Acknowledged,
    CreatePackLink,
    PackLinkCreated,
    PackPresentation,
    ShareEvent,
)
from contracts.dto import SignedUrl
from servicekit.internal import actor_of
from sharing.api.visitors import visit_of
from sharing.context import SharingContext
from sharing.service import pack_links
from sharing.service.pack_links import Opening


class PackLinkCreateController(Controller):
    path = "/internal/orgs/{org_id:str}/packs/{pack_id:str}/share"

    @post("/", status_code=201)
    async def create(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        pack_id: str,
        ctx: SharingContext,
        data: CreatePackLink | None = None,
    ) -> PackLinkCreated:
        return await pack_links.create(
            ctx, org_id, pack_id, actor_of(request), data or CreatePackLink()
        )


class _PackLinkSurface(Controller):
    """Shared by the anonymous and the signed-in surface; `granted_only` tells them apart."""

    granted_only = False

    def _opening(self, request: Request[Any, Any, Any], slug: str) -> Opening:
        return Opening(
            slug=slug,
            visit=visit_of(request),
            access_code=request.query_params.get("accessCode"),
            granted_only=self.granted_only,
        )

    @get("/")
    async def presentation(
        self, request: Request[Any, Any, Any], slug: str, ctx: SharingContext
    ) -> PackPresentation:
        return await pack_links.presentation(ctx, self._opening(request, slug))

    @get("/presentation")
    async def presentation_alias(
        self, request: Request[Any, Any, Any], slug: str, ctx: SharingContext
    ) -> PackPresentation:
        return await pack_links.presentation(ctx, self._opening(request, slug))

    @post("/share-events", status_code=200)
    async def share_event(
        self, request: Request[Any, Any, Any], slug: str, data: ShareEvent, ctx: SharingContext
    ) -> Acknowledged:
        await pack_links.share_event(ctx, self._opening(request, slug), data.channel)
        return Acknowledged(ok=True)

    @get("/tracks/{track_id:str}/playback-url")
    async def playback_url(
        self, request: Request[Any, Any, Any], slug: str, track_id: str, ctx: SharingContext
    ) -> SignedUrl:
        return await pack_links.playback_url(ctx, self._opening(request, slug), track_id)

    @get("/tracks/{track_id:str}/peaks-url")
    async def peaks_url(
        self, request: Request[Any, Any, Any], slug: str, track_id: str, ctx: SharingContext
    ) -> SignedUrl:
        """The waveform's signed URL, bound to the link as playback is; not a play."""
        return await pack_links.peaks_url(ctx, self._opening(request, slug), track_id)

    @get("/tracks/{track_id:str}/artwork-url/{size:int}")
    async def artwork_url(
        self,
        request: Request[Any, Any, Any],
        slug: str,
        track_id: str,
        size: int,
        ctx: SharingContext,
    ) -> SignedUrl:
        """One artwork size of a pack track, bound to the link; not a play."""
        return await pack_links.artwork_url(ctx, self._opening(request, slug), track_id, size)

    @get("/tracks/{track_id:str}/download-url")
    async def download_url(
        self, request: Request[Any, Any, Any], slug: str, track_id: str, ctx: SharingContext
    ) -> SignedUrl:
        return await pack_links.download_url(ctx, self._opening(request, slug), track_id)


class PublicPackLinksController(_PackLinkSurface):
    path = "/internal/pack-links/{slug:str}"


class GrantedPackLinksController(_PackLinkSurface):
    path = "/internal/granted-pack-links/{slug:str}"
    granted_only = True
