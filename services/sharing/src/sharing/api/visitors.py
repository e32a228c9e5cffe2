"""The visitor of a public surface, from the gateway's actor headers and query params."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request

from contracts.events import Device, Visitor
from contracts.text import trim
from servicekit.internal import Actor, actor_of, device_of


def visitor_from(
    actor: Actor,
    params: Mapping[str, str],
    default_source: str = "pack_link",
    device: Device | None = None,
) -> Visitor:
    return Visitor(
        user_id=actor.user_id,
        user_handle=actor.handle,
        user_display_name=actor.display_name,
        visitor_id=trim(params.get("visitorId")),
        session_id=trim(params.get("sessionId")),
        source=trim(params.get("source")) or default_source,
        device=device,
    )


def visitor_of(request: Request[Any, Any, Any], default_source: str = "pack_link") -> Visitor:
    """With the device the gateway parsed (X-Encore-Device): sharing never sees the raw
    User-Agent."""
    return visitor_from(actor_of(request), request.query_params, default_source, device_of(request))
