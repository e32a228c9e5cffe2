"""Forwarding an org-scoped request to the service that owns it, unchanged in shape.

`/v1/music/{org}/…` maps to `/internal/orgs/{org}/…` on the service; the body streams
through (uploads are not buffered twice), and the caller travels in internal headers.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from gateway.auth import Membership, actor
from servicekit.internal import ORG_ROLE_HEADER
from servicekit.upstream import InternalClient, segment

PUBLIC_PREFIX = "/v1/music/"
INTERNAL_PREFIX = "/internal/orgs/"


def upstream_path(request: Request[Any, Any, Any]) -> str:
    """Each segment re-quoted, so a decoded `..`, `?` or `#` cannot reshape the internal URL."""
    path = request.url.path
    assert path.startswith(PUBLIC_PREFIX)
    rest = path[len(PUBLIC_PREFIX) :].split("/")
    return INTERNAL_PREFIX + "/".join(segment(part) for part in rest)


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
    headers[ORG_ROLE_HEADER] = membership.role
    upstream = await client.request(
        request.method,
        upstream_path(request),
        params=dict(request.query_params),
        actor=actor(membership.caller),
        headers=headers,
        content=content,
    )
    return as_response(upstream)
