"""Public surfaces: no key needed (one is used if sent, so owners' previews are not counted).

Only GET and POST exist under `/v1/public`; Litestar answers any other method with 405,
which the error handlers put in the envelope.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.response import Stream

from gateway.auth import actor
from gateway.context import GatewayContext
from gateway.db.identity import Caller
from servicekit.upstream import error_from_response

ENGAGEMENT_PARAMS = ("visitorId", "sessionId", "source")
MEDIA_HEADERS = (
    "content-type",
    "content-length",
    "content-range",
    "accept-ranges",
    "content-disposition",
    "cache-control",
)


def engagement_params(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: v[:120] for k, v in request.query_params.items() if k in ENGAGEMENT_PARAMS}


def _json(upstream: Any) -> Response[Any]:
    return Response(
        upstream.content, status_code=upstream.status_code, media_type="application/json"
    )


async def _open_track_link(
    request: Request[Any, Any, Any],
    token: str,
    suffix: str,
    caller: Caller | None,
    ctx: GatewayContext,
) -> Response[Any]:
    upstream = await ctx.sharing.request(
        "GET",
        f"/internal/track-links/{token}{suffix}",
        params=engagement_params(request),
        actor=actor(caller),
    )
    return _json(upstream)


class PublicTrackLinksController(Controller):
    path = "/v1/public/track-links/{token:str}"

    @get("/")
    async def open(
        self,
        request: Request[Any, Any, Any],
        token: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
    ) -> Response[Any]:
        return await _open_track_link(request, token, "", caller_or_none, ctx)

    @get("/playback-url")
    async def playback_url(
        self,
        request: Request[Any, Any, Any],
        token: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
    ) -> Response[Any]:
        return await _open_track_link(request, token, "/playback-url", caller_or_none, ctx)


class SharedController(Controller):
    """`/v1/music/shared/{token}`: the URL a track link's creator is given (Aitronos)."""

    path = "/v1/music/shared/{token:str}"

    @get("/")
    async def open(
        self,
        request: Request[Any, Any, Any],
        token: str,
        caller_or_none: Caller | None,
        ctx: GatewayContext,
    ) -> Response[Any]:
        return await _open_track_link(request, token, "", caller_or_none, ctx)


class MediaController(Controller):
    """Signed media URLs end here; bytes stream from catalog (which alone reaches storage)."""

    path = "/v1/media/{token:str}"

    @get("/")
    async def fetch(
        self, request: Request[Any, Any, Any], token: str, ctx: GatewayContext
    ) -> Stream:
        headers = {"range": request.headers["range"]} if "range" in request.headers else None
        http = ctx.catalog.http
        upstream_request = http.build_request(
            "GET", f"/internal/media/{token}", headers=ctx.catalog.headers(extra=headers)
        )
        upstream = await http.send(upstream_request, stream=True)
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
