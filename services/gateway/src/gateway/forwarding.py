"""Forwarding an org-scoped request to the service that owns it, unchanged in shape.

`/v1/music/{org}/…` maps to `/internal/orgs/{org}/…` on the service; the body streams
through (uploads are not buffered twice), and the caller travels in internal headers.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from gateway.auth import Membership, actor
from servicekit.upstream import InternalClient

PUBLIC_PREFIX = "/v1/music/"
INTERNAL_PREFIX = "/internal/orgs/"


def upstream_path(request: Request[Any, Any, Any]) -> str:
    path = request.url.path
    assert path.startswith(PUBLIC_PREFIX)
    return INTERNAL_PREFIX + path[len(PUBLIC_PREFIX) :]


def as_response(upstream: Any) -> Response[Any]:
    return Response(
        upstream.content,
        status_code=upstream.status_code,
        media_type=upstream.headers.get("content-type", "application/json"),
    )


async def forward(
    client: InternalClient, request: Request[Any, Any, Any], membership: Membership
) -> Response[Any]:
    headers: dict[str, str] = {}
    content: Any = None
    if request.method in {"POST", "PUT", "PATCH"}:
        if "content-type" in request.headers:
            headers["content-type"] = request.headers["content-type"]
        if "content-length" in request.headers:
            headers["content-length"] = request.headers["content-length"]
        content = request.stream()
    upstream = await client.request(
        request.method,
        upstream_path(request),
        params=dict(request.query_params),
        actor=actor(membership.caller),
        headers=headers,
        content=content,
    )
    return as_response(upstream)
