"""Public surfaces: no key needed (one is used if sent, so owners' previews are not counted).

Only GET and POST exist under `/v1/public`; Litestar answers any other method with 405,
which the error handlers put in the envelope. Failed lookups and wrong access codes count
against the client's address (see ratelimit.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.response import Stream

from contracts.errors import ErrorCode
from gateway.auth import actor, provide_optional_caller
from gateway.context import GatewayContext
from gateway.db.identity import Caller
from gateway.track_link_opens import visit_params
from servicekit.errors import ApiError
from servicekit.internal import ORG_ID_HEADER
from servicekit.tracing import current_trace_id
from servicekit.upstream import error_from_response, segment

Req = Request[Any, Any, Any]
FORWARDED_PARAMS = ("visitorId", "sessionId", "source", "accessCode")
MEDIA_HEADERS = (
    "content-type",
    "content-length",
    "content-range",
    "accept-ranges",
    "content-disposition",
    "cache-control",
)
PUBLIC_BODY_LIMIT = 16 * 1024  # share events and play reports are tiny
LOOKUP_FAILURES = {ErrorCode.RESOURCE_NOT_FOUND, ErrorCode.TRACK_LINK_UNAVAILABLE}


def forwarded(query: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The query parameters sharing reads (the last of repeated ones), cut to a sane size."""
    return {k: v[:1000] for k, v in query if k in FORWARDED_PARAMS}


async def to_sharing(
    request: Req, path: str, caller: Caller | None, ctx: GatewayContext
) -> Response[Any]:
    """Forward a public call to sharing, counting failed guesses against the client."""
    client = ctx.proxies.client_address(request.scope)
    ctx.limiters.lookups.check(client)
    if "accessCode" in request.query_params:
        ctx.limiters.access_codes.check(client)
    body = await request.body() if request.method == "POST" else None
    try:
        upstream = await ctx.sharing.request(
            request.method,
            path,
            params=forwarded(request.query_params.items()),
            actor=actor(caller),
            content=body,
            headers={"content-type": "application/json"} if body else None,
        )
    except ApiError as exc:
        if exc.code in LOOKUP_FAILURES:
            ctx.limiters.lookups.fail(client)
        elif exc.code is ErrorCode.ACCESS_CODE_INVALID:
            ctx.limiters.access_codes.fail(client)
        raise
    return Response(
        upstream.content, status_code=upstream.status_code, media_type="application/json"
    )


async def open_track_link(
    request: Req, token: str, caller: Caller | None, ctx: GatewayContext
) -> Response[Any]:
    """The track share payload, its `share.clicked` queued (see track_link_opens.py)."""
    client = ctx.proxies.client_address(request.scope)
    ctx.limiters.lookups.check(client)
    view = await ctx.track_link_opens.open(
        token,
        visit_params(request.query_params.items()),
        caller,
        current_trace_id(),
    )
    if view is None:
        ctx.limiters.lookups.fail(client)
        raise ApiError(ErrorCode.TRACK_LINK_UNAVAILABLE, "track link unavailable")
    return Response(view, media_type="application/json")


class PublicTrackLinksController(Controller):
    path = "/v1/public/track-links/{token:str}"
    request_max_body_size = PUBLIC_BODY_LIMIT

    @get("/")
    async def open(self, request: Req, token: str, ctx: GatewayContext) -> Response[Any]:
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
    ) -> Response[Any]:
        """A signed stream URL; records `track.played`."""
        return await to_sharing(
            request,
            f"/internal/track-links/{segment(token)}/playback-url",
            caller_or_none,
            ctx,
        )

    @post("/share-events", status_code=200)
    async def share_event(
        self,
        request: Req,
        token: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
    ) -> Response[Any]:
        """`{channel}` -> `{ok: true}`; records `share.recorded`."""
        return await to_sharing(
            request,
            f"/internal/track-links/{segment(token)}/share-events",
            caller_or_none,
            ctx,
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
    ) -> Response[Any]:
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
    ) -> Response[Any]:
        """Pack presentation (`?accessCode=` for gated links); records `pack.viewed`."""
        return await to_sharing(request, self._path(slug), caller_or_none, ctx)

    @get("/presentation")
    async def presentation_alias(
        self,
        request: Req,
        slug: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
    ) -> Response[Any]:
        return await to_sharing(request, self._path(slug), caller_or_none, ctx)

    @post("/share-events", status_code=200)
    async def share_event(
        self,
        request: Req,
        slug: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
    ) -> Response[Any]:
        return await to_sharing(request, self._path(slug, "/share-events"), caller_or_none, ctx)

    @get("/tracks/{track_id:str}/playback-url")
    async def playback_url(
        self,
        request: Req,
        slug: str,
        track_id: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
    ) -> Response[Any]:
        return await to_sharing(
            request,
            self._path(slug, f"/tracks/{segment(track_id)}/playback-url"),
            caller_or_none,
            ctx,
        )

    @get("/tracks/{track_id:str}/download-url")
    async def download_url(
        self,
        request: Req,
        slug: str,
        track_id: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
    ) -> Response[Any]:
        """403 DOWNLOADS_DISABLED when the link forbids downloads; records `track.downloaded`."""
        return await to_sharing(
            request,
            self._path(slug, f"/tracks/{segment(track_id)}/download-url"),
            caller_or_none,
            ctx,
        )


class PublicPackLinksController(_PackLinks):
    path = "/v1/public/pack-links/{slug:str}"


class SignedInPackLinksController(_PackLinks):
    """The same surface for a signed-in owner or grantee; anyone else gets 404."""

    path = "/v1/pack-links/{slug:str}"
    internal = "/internal/granted-pack-links"


class PublicSplitSheetsController(Controller):
    path = "/v1/public/split-sheets/{token:str}"

    @get("/")
    async def open(self, request: Req, token: str, ctx: GatewayContext) -> Response[Any]:
        """`{link, splitSheet}`."""
        return await to_sharing(request, f"/internal/split-sheets/{segment(token)}", None, ctx)


class RefSharesController(Controller):
    """Ref codes (plyr.fm) on public tracks: create, record clicks, report plays."""

    path = "/v1/tracks/{track_id:str}"
    request_max_body_size = PUBLIC_BODY_LIMIT

    @post("/shares", status_code=201)
    async def create(
        self, request: Req, track_id: str, caller: Caller, ctx: GatewayContext
    ) -> Response[Any]:
        """A new 8-character code and the track URL with `?ref=CODE`."""
        upstream = await ctx.sharing.request(
            "POST",
            f"/internal/tracks/{segment(track_id)}/shares",
            actor=actor(caller),
            headers={ORG_ID_HEADER: caller.personal_organization_id or ""},
        )
        return Response(
            upstream.content, status_code=upstream.status_code, media_type="application/json"
        )

    @post("/shares/{code:str}/click", status_code=200)
    async def click(
        self,
        request: Req,
        track_id: str,
        code: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
    ) -> Response[Any]:
        """Always `{ok: true}`; skipped for the link's creator."""
        return await to_sharing(
            request,
            f"/internal/tracks/{segment(track_id)}/shares/{segment(code)}/click",
            caller_or_none,
            ctx,
        )

    @post("/plays", status_code=200)
    async def play(
        self,
        request: Req,
        track_id: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
    ) -> Response[Any]:
        """`{ref?, visitorId?, sessionId?, source?}`: a listener heard the track."""
        return await to_sharing(
            request, f"/internal/tracks/{segment(track_id)}/plays", caller_or_none, ctx
        )


class MediaController(Controller):
    """Signed media URLs end here; bytes stream from catalog (which alone reaches storage)."""

    path = "/v1/media/{token:str}"

    @get(
        "/",
        responses={
            206: ResponseSpec(
                data_container=bytes,
                media_type="application/octet-stream",
                description="The requested byte range of the media (a `Range` header was sent)",
                generate_examples=False,
            )
        },
    )
    async def fetch(self, request: Req, token: str, ctx: GatewayContext) -> Stream:
        headers = {"range": request.headers["range"]} if "range" in request.headers else None
        http = ctx.catalog.http
        upstream_request = http.build_request(
            "GET", f"/internal/media/{segment(token)}", headers=ctx.catalog.headers(extra=headers)
        )
        try:
            upstream = await http.send(upstream_request, stream=True)
        except httpx.HTTPError as exc:
            raise ApiError(ErrorCode.SERVICE_UNAVAILABLE, "catalog unreachable") from exc
        if upstream.status_code >= 400:
            await upstream.aread()
            await upstream.aclose()
            raise error_from_response("catalog", upstream)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream.aiter_raw():
                    yield chunk
            finally:
                await upstream.aclose()

        passed = {k: v for k, v in upstream.headers.items() if k.lower() in MEDIA_HEADERS}
        return Stream(body(), status_code=upstream.status_code, headers=passed)
