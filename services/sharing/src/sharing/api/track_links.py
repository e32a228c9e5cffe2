"""Track links (Aitronos-style capability links): create, and open by raw token."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post

from contracts.api.sharing import Acknowledged, ShareEvent
from contracts.dto import (
    Artist,
    CreateTrackLink,
    PublicTrack,
    ShareLinkCreated,
    SignedUrl,
    TrackLinkSummary,
    TrackLinkView,
)
from contracts.errors import ErrorCode
from contracts.events import (
    ShareRecorded,
    TrackPlayed,
    TrackSnapshot,
)
from contracts.media import ArtworkSize
from servicekit.errors import ApiError, not_found
from servicekit.internal import actor_of
from servicekit.upstream import segment
from sharing.api.visitors import visitor_of
from sharing.context import SharingContext
from sharing.domain.links import track_is_shareable
from sharing.events.recording import about, record
from sharing.links import create_token_link, live_token_link, public_url
from sharing.tracks import find_track


def public_track(track: TrackSnapshot, media_route: str | None = None) -> PublicTrack:
    """`media_route`: the link's own media routes (the gateway's `/a/t/{token}` or
    `/a/p/{slug}/{track}`, absolute). The payload names the peaks and each artwork size
    under it only when the replica says they exist; no storage key, no catalog call."""
    ready = track.processing_state == "ready"
    return PublicTrack(
        id=track.track_id,
        title=track.title,
        artist=Artist(handle=track.owner_handle, display_name=track.owner_display_name),
        album_id=track.album_id,
        features=track.features,
        tags=track.tags,
        description=track.description,
        duration_seconds=track.duration_seconds,
        content_type=track.content_type,
        has_artwork=track.has_artwork,
        created_at=track.created_at,
        processing_state=track.processing_state or "processing",
        peaks_url=f"{media_route}/peaks" if media_route and track.has_peaks and ready else None,
        artwork_sizes=[
            ArtworkSize(
                size=item.size,
                url=f"{media_route}/artwork/{item.size}",
                content_type=item.content_type,
            )
            for item in track.artwork_sizes
        ]
        if media_route and track.has_artwork
        else [],
        loudness_lufs=track.loudness_lufs,
        true_peak_dbtp=track.true_peak_dbtp,
    )


def track_media_route(token: str) -> str:
    return f"/a/t/{segment(token)}"


def link_view(ctx: SharingContext, link: Any, track: TrackSnapshot, token: str) -> TrackLinkView:
    """What anyone holding the token sees (opens are served in batches: track_link_opens.py)."""
    return TrackLinkView(
        link=TrackLinkSummary(
            id=link.id,
            target_type="track",
            visibility=link.visibility,
            expires_at=link.expires_at,
            created_at=link.created_at,
        ),
        track=public_track(track, public_url(ctx, track_media_route(token))),
    )


async def link_artwork(ctx: SharingContext, link_id: str, track_id: str, size: int) -> SignedUrl:
    """Catalog signs the size for the link (404 when the track has no such size)."""
    return SignedUrl.model_validate(
        await ctx.catalog.json(
            "GET",
            f"/internal/tracks/{segment(track_id)}/artwork-url",
            params={"linkId": link_id, "size": str(size)},
        )
    )


def _unavailable() -> ApiError:
    # one answer for unknown, revoked, expired and deleted: nothing reveals which
    return ApiError(ErrorCode.TRACK_LINK_UNAVAILABLE, "track link unavailable")


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
        options = data or CreateTrackLink()
        user_id = actor_of(request).require_user()
        track, deleted = await find_track(ctx, track_id)
        if track is None or deleted or track.organization_id != org_id or track.owner_id != user_id:
            raise not_found("track", track_id=track_id)
        if track.visibility != "public":
            raise ApiError(
                ErrorCode.CONFLICT,
                "a private track's link would not open",
                details={"track_id": track_id},
            )
        row, token = await create_token_link(
            ctx,
            {
                "kind": "track",
                "organization_id": org_id,
                "owner_id": user_id,
                "track_id": track_id,
                "visibility": options.visibility,
            },
            options.expires_in_days,
        )
        return ShareLinkCreated(
            id=row.id,
            token=token,
            url=public_url(ctx, f"/t/{token}"),
            target_type="track",
            visibility=row.visibility,
            expires_at=row.expires_at,
            created_at=row.created_at,
        )


class TrackLinksController(Controller):
    path = "/internal/track-links/{token:str}"

    async def _resolve(self, ctx: SharingContext, token: str) -> tuple[Any, TrackSnapshot]:
        link = await live_token_link(ctx, token, "track")
        if link is None:
            raise _unavailable()
        track, deleted = await find_track(ctx, link.track_id)
        if track is None or not track_is_shareable(track, deleted):
            raise _unavailable()
        return link, track

    @post("/share-events", status_code=200)
    async def share_event(
        self, request: Request[Any, Any, Any], token: str, data: ShareEvent, ctx: SharingContext
    ) -> Acknowledged:
        link, track = await self._resolve(ctx, token)
        await record(
            ctx,
            ShareRecorded(
                **about(link),
                track_id=track.track_id,
                channel=data.channel,
                visitor=visitor_of(request),
            ),
            request,
        )
        return Acknowledged(ok=True)

    @get("/peaks-url")
    async def peaks_url(self, token: str, ctx: SharingContext) -> SignedUrl:
        """The waveform's signed URL, bound to the link as playback is; not a play."""
        link, track = await self._resolve(ctx, token)
        return SignedUrl.model_validate(
            await ctx.catalog.json(
                "GET",
                f"/internal/tracks/{segment(track.track_id)}/peaks-url",
                params={"linkId": link.id},
            )
        )

    @get("/artwork-url/{size:int}")
    async def artwork_url(self, token: str, size: int, ctx: SharingContext) -> SignedUrl:
        """One artwork size of the link's track, bound to the link; not a play."""
        link, track = await self._resolve(ctx, token)
        return await link_artwork(ctx, link.id, track.track_id, size)

    @get("/playback-url")
    async def playback_url(
        self, request: Request[Any, Any, Any], token: str, ctx: SharingContext
    ) -> SignedUrl:
        link, track = await self._resolve(ctx, token)
        signed = SignedUrl.model_validate(
            await ctx.catalog.json(
                "GET",
                f"/internal/tracks/{segment(track.track_id)}/playback-url",
                params={"linkId": link.id},
            )
        )
        # not recorded for the player's URL before a click, or renewed (the gateway's
        # `none` verdict), nor over the client's limit
        await record(
            ctx,
            TrackPlayed(
                **about(link),
                track_id=track.track_id,
                duration_seconds=track.duration_seconds,
                visitor=visitor_of(request),
            ),
            request,
        )
        return signed
