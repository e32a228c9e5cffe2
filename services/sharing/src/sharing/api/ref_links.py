"""Ref codes (plyr.fm): create, record a click or a play (service/ref_links.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post

from contracts.api.sharing import Acknowledged, PlayReport, RefShareCreated
from servicekit.internal import ORG_ID_HEADER, actor_of
from sharing.api.visitors import visit_of
from sharing.context import SharingContext
from sharing.service import ref_links


class RefLinksController(Controller):
    path = "/internal/tracks/{track_id:str}"

    @post("/shares", status_code=201)
    async def create(
        self, request: Request[Any, Any, Any], track_id: str, ctx: SharingContext
    ) -> RefShareCreated:
        """One new code per share action: 404 if the caller cannot see the track, 409 if it
        is private (its owner can see it, but nobody they share with could)."""
        sharer_org = request.headers.get(ORG_ID_HEADER)  # the sharer's own organization
        return await ref_links.create(ctx, track_id, actor_of(request), sharer_org)

    @post("/shares/{code:str}/click", status_code=200)
    async def click(
        self, request: Request[Any, Any, Any], track_id: str, code: str, ctx: SharingContext
    ) -> Acknowledged:
        """Always OK (an unknown code reveals nothing); the creator's own clicks are skipped."""
        await ref_links.click(ctx, track_id, code, visit_of(request))
        return Acknowledged(ok=True)

    @post("/plays", status_code=200)
    async def play(
        self,
        request: Request[Any, Any, Any],
        track_id: str,
        ctx: SharingContext,
        data: PlayReport | None = None,
    ) -> Acknowledged:
        """A client reports a listen; with a valid `ref` it is attributed to that link."""
        report = data or PlayReport()
        ids = {
            "visitorId": report.visitorId,
            "sessionId": report.sessionId,
            "source": report.source,
        }
        visit = visit_of(request, {k: v for k, v in ids.items() if v is not None})
        await ref_links.play(ctx, track_id, report.ref, visit)
        return Acknowledged(ok=True)
