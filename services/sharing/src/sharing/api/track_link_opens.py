"""Track-link opens, the public hot path, in two batched calls from the gateway
(service/track_link_opens.py): resolve tokens, record the visits it served."""

from __future__ import annotations

from litestar import Controller, post

from contracts.dto import (
    TrackLinkResolveRequest,
    TrackLinkResolveResults,
    TrackLinkVisitBatch,
    TrackLinkVisitsRecorded,
)
from sharing.context import SharingContext
from sharing.service.track_link_opens import record_visits, resolve_track_links


class TrackLinkOpensController(Controller):
    path = "/internal/track-link-opens"

    @post("/resolve", status_code=200)
    async def resolve(
        self, data: TrackLinkResolveRequest, ctx: SharingContext
    ) -> TrackLinkResolveResults:
        return TrackLinkResolveResults(links=await resolve_track_links(ctx, data.tokens))

    @post("/visits", status_code=200)
    async def visits(
        self, data: TrackLinkVisitBatch, ctx: SharingContext
    ) -> TrackLinkVisitsRecorded:
        return TrackLinkVisitsRecorded(recorded=await record_visits(ctx, data.visits))
