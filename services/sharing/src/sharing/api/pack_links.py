"""Pack links (Swayzio): opened by slug, optionally gated by an access code, downloads
optionally forbidden. The same surface serves anonymous visitors (`/internal/pack-links`)
and signed-in owners or grantees (`/internal/granted-pack-links`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, get, post

from contracts.api.sharing import (
    Acknowledged,
    CreatePackLink,
    PackContents,
    PackLinkCreated,
    PackLinkSummary,
    PackPresentation,
    ShareEvent,
)
from contracts.dto import SignedUrl
from contracts.errors import ErrorCode
from contracts.events import (
    PackViewed,
    SharePreviewed,
    ShareRecorded,
    TrackDownloaded,
    TrackPlayed,
    TrackSnapshot,
)
from servicekit.errors import ApiError, not_found
from servicekit.internal import actor_of, engagement_of
from servicekit.upstream import segment
from sharing.api.track_links import link_artwork, public_track
from sharing.api.visitors import visitor_of
from sharing.context import SharingContext
from sharing.db import links as repo
from sharing.domain.links import is_live, link_expiry, track_is_shareable
from sharing.events.recording import about, record
from sharing.links import create_link, new_pack_slug, public_url
from sharing.tracks import find_pack, find_tracks


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
        options = data or CreatePackLink()
        user_id = actor_of(request).require_user()
        pack = await find_pack(ctx, pack_id)
        if pack is None or pack.organization_id != org_id or pack.owner_id != user_id:
            raise not_found("pack", pack_id=pack_id)
        grantees = sorted({g.strip().lower() for g in options.grantees if g.strip()})
        row = await create_link(
            ctx,
            {
                "kind": "pack",
                "organization_id": org_id,
                "owner_id": user_id,
                "pack_id": pack_id,
                "visibility": "link_only",
                "name": (options.name or "").strip() or None,
                "access_code_hash": await ctx.access_codes.hash(options.access_code)
                if options.access_code
                else None,
                "disable_downloads": options.disable_downloads,
                "grantees": grantees,
                "expires_at": link_expiry(
                    datetime.now(UTC), options.expires_in_days, ctx.settings.max_link_days
                ),
            },
            unique_field="slug",
            make_unique=new_pack_slug,
        )
        return PackLinkCreated(
            id=row.id,
            slug=row.slug,
            url=public_url(ctx, f"/p/{row.slug}"),
            target_type="pack",
            pack_id=pack_id,
            name=row.name,
            visibility=row.visibility,
            disable_downloads=row.disable_downloads,
            has_access_code=row.access_code_hash is not None,
            grantees=grantees,
            expires_at=row.expires_at,
            created_at=row.created_at,
        )


class _PackLinkSurface(Controller):
    """Shared by the anonymous and the signed-in surface; `require_grant` tells them apart."""

    require_grant = False

    async def _open(
        self, request: Request[Any, Any, Any], ctx: SharingContext, slug: str
    ) -> tuple[Any, Any]:
        actor = actor_of(request)
        async with ctx.sessions() as session:
            link = await repo.by_slug(session, slug)
        live = link is not None and is_live(link.revoked_at, link.expires_at, datetime.now(UTC))
        pack = await find_pack(ctx, link.pack_id) if live else None
        if not live or pack is None:
            raise not_found("pack link", slug=slug)
        is_owner = actor.user_id is not None and actor.user_id == link.owner_id
        if (
            self.require_grant
            and not is_owner
            and (actor.handle or "") not in (link.grantees or [])
        ):
            raise not_found("pack link", slug=slug)
        if link.access_code_hash and not is_owner:
            given = request.query_params.get("accessCode")
            if not given:
                raise ApiError(ErrorCode.ACCESS_CODE_REQUIRED, "this link needs ?accessCode=")
            verdict = await ctx.access_codes.check(given, link.access_code_hash)
            if not verdict.matches:
                raise ApiError(ErrorCode.ACCESS_CODE_INVALID, "wrong access code")
            if verdict.rehashed is not None:
                async with ctx.sessions() as session, session.begin():
                    await repo.replace_access_code_hash(
                        session, link.id, link.access_code_hash, verdict.rehashed
                    )
        return link, pack

    async def _tracks(self, ctx: SharingContext, pack: Any) -> list[TrackSnapshot]:
        found = await find_tracks(ctx, list(pack.track_ids))
        tracks = []
        for track_id in pack.track_ids:
            track, deleted = found.get(track_id, (None, True))
            if track is not None and track_is_shareable(track, deleted):
                tracks.append(track)
        return tracks

    async def _presentation(
        self, request: Request[Any, Any, Any], slug: str, ctx: SharingContext
    ) -> PackPresentation:
        link, pack = await self._open(request, ctx, slug)
        tracks = await self._tracks(ctx, pack)
        _, preview = engagement_of(request)
        await record(
            ctx,
            # a preview fetcher, bot, HEAD or prefetch (the gateway says which, SPEC §9):
            # the card is served, the open is counted apart, never as a view
            SharePreviewed(**about(link), reason=preview, visitor=visitor_of(request))
            if preview
            else PackViewed(**about(link), visitor=visitor_of(request)),
            request,
        )
        return PackPresentation(
            link=PackLinkSummary(
                slug=link.slug,
                name=link.name,
                disable_downloads=link.disable_downloads,
                expiresAt=link.expires_at,
                created_at=link.created_at,
            ),
            pack=PackContents(
                id=pack.pack_id,
                title=pack.title,
                description=pack.description,
                tracks=[
                    public_track(
                        t,
                        public_url(ctx, f"/a/p/{segment(slug)}/{segment(t.track_id)}"),
                    )
                    for t in tracks
                ],
            ),
        )

    @get("/")
    async def presentation(
        self, request: Request[Any, Any, Any], slug: str, ctx: SharingContext
    ) -> PackPresentation:
        return await self._presentation(request, slug, ctx)

    @get("/presentation")
    async def presentation_alias(
        self, request: Request[Any, Any, Any], slug: str, ctx: SharingContext
    ) -> PackPresentation:
        return await self._presentation(request, slug, ctx)

    @post("/share-events", status_code=200)
    async def share_event(
        self, request: Request[Any, Any, Any], slug: str, data: ShareEvent, ctx: SharingContext
    ) -> Acknowledged:
        link, _ = await self._open(request, ctx, slug)
        await record(
            ctx,
            ShareRecorded(
                **about(link),
                channel=data.channel,
                visitor=visitor_of(request),
            ),
            request,
        )
        return Acknowledged(ok=True)

    async def _track_in_pack(self, ctx: SharingContext, pack: Any, track_id: str) -> TrackSnapshot:
        if track_id not in pack.track_ids:
            raise not_found("track in this pack", track_id=track_id)
        for track in await self._tracks(ctx, pack):
            if track.track_id == track_id:
                return track
        raise not_found("track in this pack", track_id=track_id)

    @get("/tracks/{track_id:str}/playback-url")
    async def playback_url(
        self, request: Request[Any, Any, Any], slug: str, track_id: str, ctx: SharingContext
    ) -> SignedUrl:
        link, pack = await self._open(request, ctx, slug)
        track = await self._track_in_pack(ctx, pack, track_id)
        signed = SignedUrl.model_validate(
            await ctx.catalog.json(
                "GET",
                f"/internal/tracks/{segment(track_id)}/playback-url",
                params={"linkId": link.id},
            )
        )
        # not recorded for the player's URL before a click, or renewed (the gateway's
        # `none` verdict), nor over the client's limit
        await record(
            ctx,
            TrackPlayed(
                **about(link),
                track_id=track_id,
                duration_seconds=track.duration_seconds,
                visitor=visitor_of(request),
            ),
            request,
        )
        return signed

    @get("/tracks/{track_id:str}/peaks-url")
    async def peaks_url(
        self, request: Request[Any, Any, Any], slug: str, track_id: str, ctx: SharingContext
    ) -> SignedUrl:
        """The waveform's signed URL, bound to the link as playback is; not a play."""
        link, pack = await self._open(request, ctx, slug)
        await self._track_in_pack(ctx, pack, track_id)
        return SignedUrl.model_validate(
            await ctx.catalog.json(
                "GET",
                f"/internal/tracks/{segment(track_id)}/peaks-url",
                params={"linkId": link.id},
            )
        )

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
        link, pack = await self._open(request, ctx, slug)
        await self._track_in_pack(ctx, pack, track_id)
        return await link_artwork(ctx, link.id, track_id, size)

    @get("/tracks/{track_id:str}/download-url")
    async def download_url(
        self, request: Request[Any, Any, Any], slug: str, track_id: str, ctx: SharingContext
    ) -> SignedUrl:
        link, pack = await self._open(request, ctx, slug)
        await self._track_in_pack(ctx, pack, track_id)
        if link.disable_downloads:
            raise ApiError(ErrorCode.DOWNLOADS_DISABLED, "the link's owner turned downloads off")
        signed = SignedUrl.model_validate(
            await ctx.catalog.json(
                "GET",
                f"/internal/tracks/{segment(track_id)}/download-url",
                params={"linkId": link.id},
            )
        )
        await record(
            ctx,
            TrackDownloaded(
                **about(link),
                track_id=track_id,
                visitor=visitor_of(request),
            ),
            request,
        )
        return signed


class PublicPackLinksController(_PackLinkSurface):
    path = "/internal/pack-links/{slug:str}"


class GrantedPackLinksController(_PackLinkSurface):
    path = "/internal/granted-pack-links/{slug:str}"
    require_grant = True
