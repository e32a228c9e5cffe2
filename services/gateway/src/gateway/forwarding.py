"""Forwarding an org-scoped request to the service that owns it, unchanged in shape.

`/v1/music/{org}/…` maps to `/internal/orgs/{org}/…` on the service; the body streams
through (uploads are not buffered twice), and the caller travels in internal headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, TypeVar, cast

from litestar import Request, Response
from litestar.exceptions import ClientException
from pydantic import TypeAdapter

from gateway.auth import Membership, actor
from servicekit.errors import ApiError
from servicekit.internal import ORG_ROLE_HEADER
from servicekit.upstream import InternalClient, UpstreamResponse, segment

T = TypeVar("T")

# a handler marked with this option takes bodies up to the upload limit; every other route
# keeps the small JSON limit (see `allow_uploads` in app.py)
UPLOAD_OPTION = "upload"
UPLOAD_ROUTE = {UPLOAD_OPTION: True}

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


class Body:
    """A request body streamed to a service, within the route's size limit.

    Litestar raises the limit from inside the body stream; raised in the HTTP client's
    writer it would come out as an unreachable service (503). So the first chunk is read
    before the call (a too large `Content-Length` is refused before anything is sent), and
    a refusal later in the stream is kept and raised as itself (413 in the envelope)."""

    def __init__(self, request: Request[Any, Any, Any]) -> None:
        self._stream = request.stream()
        self.refused: ClientException | None = None

    async def start(self) -> AsyncIterator[bytes]:
        first = await anext(self._stream, b"")
        return self._chunks(first)

    async def _chunks(self, first: bytes) -> AsyncIterator[bytes]:
        yield first
        try:
            async for chunk in self._stream:
                yield chunk
        except ClientException as exc:
            self.refused = exc
            raise


async def forward(
    client: InternalClient, request: Request[Any, Any, Any], membership: Membership
) -> Response[Any]:
    return as_response(await send(client, request, membership))


async def forward_as(
    shape: type[T],
    client: InternalClient,
    request: Request[Any, Any, Any],
    membership: Membership,
) -> T:
    """Forwarded as `forward` does, the answer read as the contract model the route declares
    (the service answers the same model, so this only checks that it did)."""
    return read_as(shape, await send(client, request, membership))


def read_as(shape: type[T], upstream: UpstreamResponse) -> T:
    adapter = _adapters.get(shape)
    if adapter is None:  # made once per shape: building one costs more than validating
        adapter = _adapters[shape] = TypeAdapter(shape)
    return cast(T, adapter.validate_json(upstream.content))


_adapters: dict[Any, TypeAdapter[Any]] = {}


async def send(
    client: InternalClient, request: Request[Any, Any, Any], membership: Membership
) -> UpstreamResponse:
    """The request as the service received it, its body streamed; the service's answer."""
    headers: dict[str, str] = {}
    body: Body | None = None
    content: Any = None
    if request.method in {"POST", "PUT", "PATCH"}:
        if "content-type" in request.headers:
            headers["content-type"] = request.headers["content-type"]
        if "content-length" in request.headers:
            headers["content-length"] = request.headers["content-length"]
        body = Body(request)
        content = await body.start()
    headers[ORG_ROLE_HEADER] = membership.role
    try:
        upstream = await client.request(
            request.method,
            upstream_path(request),
            params=dict(request.query_params),
            actor=actor(membership.caller),
            headers=headers,
            content=content,
        )
    except ApiError:
        if body is not None and body.refused is not None:
            raise body.refused from None
        raise
    return upstream
