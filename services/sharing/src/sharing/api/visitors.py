"""The visit of a public surface, parsed from the gateway's headers: who acts (actor
headers), the visitor (with the client's query params, or the ones a body carries), the
device the gateway parsed (X-Encore-Device: sharing never sees the raw User-Agent) and the
gateway's engagement verdict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request

from servicekit.internal import ENGAGEMENT_HEADER, actor_of, device_of, engagement_of
from sharing.domain.visitors import visitor_from
from sharing.service.engagement import Visit


def visit_of(request: Request[Any, Any, Any], params: Mapping[str, str] | None = None) -> Visit:
    """`params`: the visitor's ids when the body carries them instead of the query."""
    actor = actor_of(request)
    counts, preview = engagement_of(request)
    return Visit(
        actor=actor,
        visitor=visitor_from(
            actor,
            request.query_params if params is None else params,
            device=device_of(request),
        ),
        counts=counts,
        preview=preview,
        limited=request.headers.get(ENGAGEMENT_HEADER) == "limited",
    )
