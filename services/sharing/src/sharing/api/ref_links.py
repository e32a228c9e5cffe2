"""Ref codes (plyr.fm): attribution codes appended as `?ref=CODE` to a public track's URL.

They grant nothing; they attribute clicks and plays to the person who shared."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post

from contracts import ids
from contracts.api.sharing import Acknowledged, PlayReport, RefShareCreated
from contracts.errors import ErrorCode
from contracts.events import ShareClicked, SharePreviewed, TrackPlayed, Visitor
from contracts.hashing import hash_secret, token_preview
from contracts.text import trim
from servicekit.errors import ApiError, not_found
from servicekit.internal import ORG_ID_HEADER, actor_of, device_of, engagement_of
from sharing.api.visitors import visitor_of
from sharing.context import SharingContext
from sharing.db import links as repo
from sharing.events.recording import about, record
from sharing.links import create_link, public_url
from sharing.tracks import find_track


class RefLinksController(Controller):
    path = "/internal/tracks/{track_id:str}"

    @post("/shares", status_code=201)
    async def create(
        self, request: Request[Any, Any, Any], track_id: str, ctx: SharingContext
    ) -> RefShareCreated:
        """One new code per share action: 404 if the caller cannot see the track, 409 if it
        is private (its owner can see it, but nobody they share with could)."""
        user_id = actor_of(request).require_user()
        sharer_org = request.headers.get(ORG_ID_HEADER)  # the sharer's own organization
        track, deleted = await find_track(ctx, track_id)
        if track is None or deleted or (track.visibility != "public" and track.owner_id != user_id):
            raise not_found("track", track_id=track_id)
        if track.visibility != "public":
            raise ApiError(
                ErrorCode.CONFLICT,
                "a private track cannot be shared",
                details={"track_id": track_id},
            )
        codes: list[str] = []

        def draw() -> str:
            codes.append(ids.new_ref_code())
            return hash_secret(codes[-1])

        row = await create_link(
            ctx,
            {
                "kind": "ref",
                "organization_id": sharer_org or track.organization_id,
                "owner_id": user_id,
                "track_id": track_id,
                "visibility": "public",
            },
            unique_field="token_hash",
            make_unique=draw,
            preview=lambda: token_preview(codes[-1]),
        )
        code = codes[-1]
        return RefShareCreated(
            id=row.id,
            code=code,
            track_id=track_id,
            url=public_url(ctx, f"/v1/tracks/{track_id}?ref={code}"),
            created_at=row.created_at,
        )

    @post("/shares/{code:str}/click", status_code=200)
    async def click(
        self, request: Request[Any, Any, Any], track_id: str, code: str, ctx: SharingContext
    ) -> Acknowledged:
        """Always OK (an unknown code reveals nothing); the creator's own clicks are skipped."""
        async with ctx.sessions() as session:
            link = await repo.by_ref_code(session, code)
        if link is not None and link.track_id == track_id and link.revoked_at is None:
            _, preview = engagement_of(request)  # a bot's open is a preview (SPEC §9)
            visitor = visitor_of(request)
            await record(
                ctx,
                SharePreviewed(**about(link), track_id=track_id, reason=preview, visitor=visitor)
                if preview
                else ShareClicked(**about(link), track_id=track_id, visitor=visitor),
                request,
            )
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
        actor = actor_of(request)
        track, deleted = await find_track(ctx, track_id)
        if (
            track is None
            or deleted
            or (track.visibility != "public" and track.owner_id != actor.user_id)
        ):
            raise not_found("track", track_id=track_id)
        link = None
        if report.ref:
            async with ctx.sessions() as session:
                link = await repo.by_ref_code(session, report.ref)
            if link is None or link.track_id != track_id or link.revoked_at is not None:
                link = None
        visitor = Visitor(
            user_id=actor.user_id,
            user_handle=actor.handle,
            user_display_name=actor.display_name,
            visitor_id=trim(report.visitorId),
            session_id=trim(report.sessionId),
            source=trim(report.source) or "pack_link",
            device=device_of(request),
        )
        if actor.user_id and actor.user_id == track.owner_id:
            return Acknowledged(ok=True)  # an artist listening to their own track is not a play
        await record(
            ctx,
            TrackPlayed(
                link_id=link.id if link else None,
                link_kind="ref" if link else None,
                link_owner_id=link.owner_id if link else None,
                organization_id=track.organization_id,
                track_id=track_id,
                duration_seconds=track.duration_seconds,
                visitor=visitor,
            ),
            request,
        )
        return Acknowledged(ok=True)
