"""Track links (Aitronos-style capability links): create, and open by raw token
(service/track_links.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post

from contracts.api.sharing import Acknowledged, ShareEvent
from contracts.dto import CreateTrackLink, ShareLinkCreated, SignedUrl
from servicekit.internal import actor_of
from sharing.api.visitors import visit_of
from sharing.context import SharingContext
from sharing.service import track_links


class OrgTrackShareController(Controller):
    path = "/internal/orgs/{org_id:str}/tracks/{track_id:str}/share"

    @post("/", status_code=201)
    async def create(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        track_id: str,
        ctx: SharingContext,
        data: CreateTrackLink | None = None,
    ) -> ShareLinkCreated:
        return await track_links.create(
            ctx, org_id, track_id, actor_of(request), data or CreateTrackLink()
        )


class TrackLinksController(Controller):
    path = "/internal/track-links/{token:str}"

    @post("/share-events", status_code=200)
    async def share_event(
        self, request: Request[Any, Any, Any], token: str, data: ShareEvent, ctx: SharingContext
    ) -> Acknowledged:
        await track_links.share_event(ctx, token, visit_of(request), data.channel)
        return Acknowledged(ok=True)

    @get("/peaks-url")
    async def peaks_url(self, token: str, ctx: SharingContext) -> SignedUrl:
        """The waveform's signed URL, bound to the link as playback is; not a play."""
        return await track_links.peaks_url(ctx, token)

    @get("/artwork-url/{size:int}")
    async def artwork_url(self, token: str, size: int, ctx: SharingContext) -> SignedUrl:
        """One artwork size of the link's track, bound to the link; not a play."""
        return await track_links.artwork_url(ctx, token, size)

    @get("/playback-url")
    async def playback_url(
        self, request: Request[Any, Any, Any], token: str, ctx: SharingContext
    ) -> SignedUrl:
        return await track_links.playback_url(ctx, token, visit_of(request))
