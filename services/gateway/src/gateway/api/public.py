"""Public surfaces: no key needed (one is used if sent, so owners' previews are not counted).

Only GET and POST exist under `/v1/public`; Litestar answers any other method with 405,
which the error handlers put in the envelope. Lookups and access codes are charged to the
client's address, and access codes to the pack link too, before sharing sees them (see
ratelimit.py).
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import QueryParameter
from litestar.types import ASGIApp

from contracts.api.sharing import (
    Acknowledged,
    PackPresentation,
    PlayReport,
    RefShareCreated,
    ShareEvent,
    SplitSheetLinkView,
)
from contracts.dto import SignedUrl, TrackLinkView
from contracts.errors import ErrorCode
from gateway.auth import SESSION_COOKIE_OK, provide_optional_caller
from gateway.context import GatewayContext
from gateway.db.identity import Caller
from gateway.media import BoundedStream
from gateway.service.public_access import open_track_link as shared_open_track_link
from gateway.service.public_access import preview_of, to_sharing
from gateway.service.share_links import create_ref_share
from servicekit.errors import ApiError
from servicekit.internal import MEDIA_LINK_HEADER, MEDIA_SUBJECT_HEADER
from servicekit.upstream import error_from_response, segment

Req = Request[Any, Any, Any]
MEDIA_HEADERS = (
    "content-type",
    "content-length",
    "content-range",
    "accept-ranges",
    "content-disposition",
    "cache-control",
)
PUBLIC_BODY_LIMIT = 16 * 1024  # share events and play reports are tiny

# What a visitor says of themselves on the engagement calls (declared for the document;
# they are forwarded from the query as sent, see `forwarded`)
VisitorId = Annotated[
    str | None,
    QueryParameter(
        name="visitorId",
        description="the visitor's own id, for unique-visitor counts; trimmed to 120 characters",
    ),
]
SessionId = Annotated[
    str | None,
    QueryParameter(
        name="sessionId", description="the visitor's session; trimmed to 120 characters"
    ),
]
Source = Annotated[
    str | None,
    QueryParameter(
        description="where the visitor came from (`pack_link` when left out); trimmed to 120 "
        "characters"
    ),
]
AccessCode = Annotated[
    str | None,
    QueryParameter(
        name="accessCode",
        description="the code of a gated pack link (403 ACCESS_CODE_REQUIRED without it)",
    ),
]


async def open_track_link(
    request: Req, token: str, caller: Caller | None, ctx: GatewayContext
) -> Response[TrackLinkView]:
    """The track share payload as JSON; the rules are in service/public_access.py."""
    view = await shared_open_track_link(request, token, caller, ctx)
    return cast("Response[TrackLinkView]", Response(view, media_type="application/json"))


class PublicTrackLinksController(Controller):
    path = "/v1/public/track-links/{token:str}"
    request_max_body_size = PUBLIC_BODY_LIMIT

    @get("/")
    async def open(
        self,
        request: Req,
        token: str,
        ctx: GatewayContext,
        visitor_id: VisitorId = None,
        session_id: SessionId = None,
        source: Source = None,
    ) -> Response[TrackLinkView]:
        """The track share payload; records `share.clicked`."""
        # the caller is looked up here, not injected: this is the busiest public route, and
        # each injected dependency costs every request (most send no key at all)
        caller = await provide_optional_caller(request, ctx)
        return await open_track_link(request, token, caller, ctx)

    @get("/playback-url")
    async def playback_url(
        self,
        request: Req,
        token: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
        visitor_id: VisitorId = None,
        session_id: SessionId = None,
        source: Source = None,
    ) -> SignedUrl:
        """A signed stream URL; records `track.played`."""
        return await to_sharing(
            request,
            f"/internal/track-links/{segment(token)}/playback-url",
            caller_or_none,
            ctx,
            SignedUrl,
        )

    @post("/share-events", status_code=200)
    async def share_event(
        self,
        request: Req,
        token: str,
        data: ShareEvent,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
        visitor_id: VisitorId = None,
        session_id: SessionId = None,
        source: Source = None,
    ) -> Acknowledged:
        """`{channel}` -> `{ok: true}`; records `share.recorded`."""
        return await to_sharing(
            request,
            f"/internal/track-links/{segment(token)}/share-events",
            caller_or_none,
            ctx,
            Acknowledged,
            body=data,
        )


class SharedController(Controller):
    """`/v1/music/shared/{token}`: the URL a track link's creator is given (Aitronos)."""

    path = "/v1/music/shared/{token:str}"

    @get("/")
    async def open(
        self,
        request: Req,
        token: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
        visitor_id: VisitorId = None,
        session_id: SessionId = None,
        source: Source = None,
    ) -> Response[TrackLinkView]:
        return await open_track_link(request, token, caller_or_none, ctx)


class _PackLinks(Controller):
    """The pack-link surface; `internal` says which sharing surface serves it."""

    internal = "/internal/pack-links"
    request_max_body_size = PUBLIC_BODY_LIMIT

    def _path(self, slug: str, rest: str = "") -> str:
        return f"{self.internal}/{segment(slug)}{rest}"

    @get("/")
    async def presentation(
        self,
        request: Req,
        slug: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
        access_code: AccessCode = None,
        visitor_id: VisitorId = None,
        session_id: SessionId = None,
        source: Source = None,
    ) -> PackPresentation:
        """Pack presentation (`?accessCode=` for gated links); records `pack.viewed` (or
        `share.previewed` for a bot, a preview fetcher or a prefetch)."""
        return await to_sharing(
            request,
            self._path(slug),
            caller_or_none,
            ctx,
            PackPresentation,
            slug,
            preview=preview_of(request),
        )

    @get("/presentation")
    async def presentation_alias(
        self,
        request: Req,
        slug: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
        access_code: AccessCode = None,
        visitor_id: VisitorId = None,
        session_id: SessionId = None,
        source: Source = None,
    ) -> PackPresentation:
        """The same as the pack presentation itself."""
        return await to_sharing(
            request,
            self._path(slug),
            caller_or_none,
            ctx,
            PackPresentation,
            slug,
            preview=preview_of(request),
        )

    @post("/share-events", status_code=200)
    async def share_event(
        self,
        request: Req,
        slug: str,
        data: ShareEvent,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
        access_code: AccessCode = None,
        visitor_id: VisitorId = None,
        session_id: SessionId = None,
        source: Source = None,
    ) -> Acknowledged:
        """`{channel}` -> `{ok: true}`; records `share.recorded`."""
        return await to_sharing(
            request,
            self._path(slug, "/share-events"),
            caller_or_none,
            ctx,
            Acknowledged,
            slug,
            body=data,
        )

    @get("/tracks/{track_id:str}/playback-url")
    async def playback_url(
        self,
        request: Req,
        slug: str,
        track_id: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
        access_code: AccessCode = None,
        visitor_id: VisitorId = None,
        session_id: SessionId = None,
        source: Source = None,
    ) -> SignedUrl:
        """A signed stream URL of a track in the pack; records `track.played`."""
        return await to_sharing(
            request,
            self._path(slug, f"/tracks/{segment(track_id)}/playback-url"),
            caller_or_none,
            ctx,
            SignedUrl,
            slug,
        )

    @get("/tracks/{track_id:str}/download-url")
    async def download_url(
        self,
        request: Req,
        slug: str,
        track_id: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
        access_code: AccessCode = None,
        visitor_id: VisitorId = None,
        session_id: SessionId = None,
        source: Source = None,
    ) -> SignedUrl:
        """403 DOWNLOADS_DISABLED when the link forbids downloads; records `track.downloaded`."""
        return await to_sharing(
            request,
            self._path(slug, f"/tracks/{segment(track_id)}/download-url"),
            caller_or_none,
            ctx,
            SignedUrl,
            slug,
        )


class PublicPackLinksController(_PackLinks):
    path = "/v1/public/pack-links/{slug:str}"


class SignedInPackLinksController(_PackLinks):
    """The same surface for a signed-in owner or grantee; anyone else gets 404."""

    path = "/v1/pack-links/{slug:str}"
    internal = "/internal/granted-pack-links"
    opt = SESSION_COOKIE_OK  # the dashboard's session signs in here too


class PublicSplitSheetsController(Controller):
    path = "/v1/public/split-sheets/{token:str}"

    @get("/")
    async def open(self, request: Req, token: str, ctx: GatewayContext) -> SplitSheetLinkView:
        """`{link, splitSheet}`."""
        return await to_sharing(
            request,
            f"/internal/split-sheets/{segment(token)}",
            None,
            ctx,
            SplitSheetLinkView,
            engages=False,
        )


class RefSharesController(Controller):
    """Ref codes (plyr.fm) on public tracks: create, record clicks, report plays."""

    path = "/v1/tracks/{track_id:str}"
    request_max_body_size = PUBLIC_BODY_LIMIT

    @post("/shares", status_code=201)
    async def create(self, track_id: str, caller: Caller, ctx: GatewayContext) -> RefShareCreated:
        """A new 8-character code and the track URL with `?ref=CODE`."""
        return await create_ref_share(ctx, caller, track_id)

    @post("/shares/{code:str}/click", status_code=200)
    async def click(
        self,
        request: Req,
        track_id: str,
        code: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
        visitor_id: VisitorId = None,
        session_id: SessionId = None,
        source: Source = None,
    ) -> Acknowledged:
        """Always `{ok: true}`; skipped for the link's creator (a bot's click is recorded
        as `share.previewed`)."""
        return await to_sharing(
            request,
            f"/internal/tracks/{segment(track_id)}/shares/{segment(code)}/click",
            caller_or_none,
            ctx,
            Acknowledged,
            preview=preview_of(request),
        )

    @post("/plays", status_code=200)
    async def play(
        self,
        request: Req,
        track_id: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
        data: PlayReport | None = None,
    ) -> Acknowledged:
        """`{ref?, visitorId?, sessionId?, source?}`: a listener heard the track."""
        return await to_sharing(
            request,
            f"/internal/tracks/{segment(track_id)}/plays",
            caller_or_none,
            ctx,
            Acknowledged,
            body=data,
        )


class MediaController(Controller):
    """Signed media URLs end here; bytes stream from catalog (which alone reaches storage),
    within the bounds of gateway/media.py. A URL given out through a link plays only while
    that link is live (gateway/media_access.py)."""

    path = "/v1/media/{token:str}"

    @get(
        "/",
        responses={
            200: ResponseSpec(
                data_container=bytes,
                media_type="application/octet-stream",
                description="The media's bytes (its own type in `Content-Type`)",
                generate_examples=False,
            ),
            206: ResponseSpec(
                data_container=bytes,
                media_type="application/octet-stream",
                description="The requested byte range of the media (a `Range` header was sent)",
                generate_examples=False,
            ),
        },
    )
    async def fetch(self, request: Req, token: str, ctx: GatewayContext) -> ASGIApp:
        client = ctx.proxies.client_address(request.scope)
        ctx.media.clients.claim(client)  # 429 past the per-client cap
        try:
            return await open_media(request, token, ctx, client)
        except BaseException:
            ctx.media.clients.release(client)
            raise


async def open_media(request: Req, token: str, ctx: GatewayContext, client: str) -> ASGIApp:
    """Catalog's answer to the token (it checks signature, expiry and the object), held
    back until the link it is bound to, if any, is known to be still live."""
    extra = {"range": request.headers["range"]} if "range" in request.headers else None
    upstream = await ctx.media.open(token, ctx.catalog.headers(extra=extra))
    try:
        if upstream.status_code >= 400:
            await upstream.aread()
            raise error_from_response("catalog", upstream)
        link_id = upstream.headers.get(MEDIA_LINK_HEADER)
        if link_id is not None and not await ctx.media_access.allows(
            link_id, upstream.headers.get(MEDIA_SUBJECT_HEADER, "")
        ):
            raise ApiError(ErrorCode.RESOURCE_NOT_FOUND, "media not found")
    except BaseException:
        await upstream.aclose()
        raise
    passed = [(k, v) for k, v in upstream.headers.items() if k.lower() in MEDIA_HEADERS]
    return BoundedStream(upstream, passed, ctx.media, client)
