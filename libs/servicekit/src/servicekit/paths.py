"""Paths mean what the caller wrote, in every service.

The server decodes a path before routing, so an encoded slash (`%2F`) would become a
separator: `/tracks/x%2Fshare` would route as `/tracks/x/share`, another route than the one
written. No id holds a slash, so such a path names nothing: 404, like any unknown path.
Outgoing, `servicekit.upstream.segment` quotes each value, which keeps a caller's `%252F`
(decoded once to `%2F`) one segment at the next service too.
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from contracts.errors import ErrorCode
from servicekit.errors import ApiError

_ENCODED_SLASH = b"%2f"


def refuse_encoded_slashes(request: Request[Any, Any, Any]) -> None:
    """A `before_request` hook; an app-wide one runs for every route it matched."""
    raw_path = request.scope.get("raw_path") or b""
    if _ENCODED_SLASH in raw_path.lower():
        raise ApiError(ErrorCode.RESOURCE_NOT_FOUND, "no path holds an encoded slash (%2F)")
