"""Paths mean what the caller wrote, in every service.

The server decodes a path before routing, so an encoded slash (`%2F`) would become a
separator: `/tracks/x%2Fshare` would route as `/tracks/x/share`, another route than the one
written. No id holds a slash, so such a path names nothing: 404, like any unknown path.
Outgoing, `servicekit.upstream.segment` quotes each value, which keeps a caller's `%252F`
(decoded once to `%2F`) one segment at the next service too.
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response
from litestar.routes import HTTPRoute

from contracts.errors import ErrorCode
from servicekit.errors import ApiError

_ENCODED_SLASH = b"%2f"


def refuse_encoded_slashes(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook; an app-wide one runs for every route it matched."""
    raw_path = request.scope.get("raw_path") or b""
    if _ENCODED_SLASH in raw_path.lower():
        raise ApiError(ErrorCode.RESOURCE_NOT_FOUND, "no path holds an encoded slash (%2F)")


def _allowed(app: Litestar, path: str) -> str | None:
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path == path:
            return ", ".join(sorted(route.methods))
    return None


def answer_options(request: Request[Any, Any, Any]) -> Response[None] | None:
    """A `before_request` hook: `OPTIONS` lists every method of its path in `Allow`.

    Litestar 2.25 makes a path's automatic OPTIONS answer when the path's first handlers
    are registered, and it keeps listing only those: a method added at the same path later
    is routed (and in a 405's `Allow`) but missing here. The route itself knows them all."""
    if request.method != "OPTIONS":
        return None
    allowed = next(
        (found for path in request.route_handler.paths if (found := _allowed(request.app, path))),
        None,
    )
    if allowed is None:
        return None
    return Response(None, status_code=204, headers={"Allow": allowed}, media_type="text/plain")


async def before_each_request(request: Request[Any, Any, Any]) -> Response[None] | None:
    """The app-wide `before_request` of every service: paths as written, then OPTIONS.

    Async on purpose, though it awaits nothing: Litestar runs a sync hook in its thread
    pool, a thread hop on every routed request of every service (measured: ~10% of the
    gateway's CPU on the shares list, and on sharing's view recording)."""
    refuse_encoded_slashes(request)
    return answer_options(request)
