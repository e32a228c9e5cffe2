"""The visitor an engagement event names, from who acts and what the client sent."""

from __future__ import annotations

from collections.abc import Mapping

from contracts.events import Device, Visitor
from contracts.text import trim
from servicekit.internal import Actor


def visitor_from(
    actor: Actor,
    params: Mapping[str, str],
    default_source: str = "pack_link",
    device: Device | None = None,
) -> Visitor:
    """`params`: the client's `visitorId`, `sessionId` and `source` (query or body)."""
    return Visitor(
        user_id=actor.user_id,
        user_handle=actor.handle,
        user_display_name=actor.display_name,
        visitor_id=trim(params.get("visitorId")),
        session_id=trim(params.get("sessionId")),
        source=trim(params.get("source")) or default_source,
        device=device,
    )
