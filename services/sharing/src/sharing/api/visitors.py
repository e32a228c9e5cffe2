"""The visitor of a public surface, from the gateway's actor headers and query params."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request

from contracts.events import Visitor
from contracts.text import trim
from servicekit.internal import Actor, actor_of


def visitor_from(
    actor: Actor, params: Mapping[str, str], default_source: str = "pack_link"
) -> Visitor:
    return Visitor(
        user_id=actor.user_id,
        user_handle=actor.handle,
        user_display_name=actor.display_name,
        visitor_id=trim(params.get("visitorId")),
        session_id=trim(params.get("sessionId")),
        source=trim(params.get("source")) or default_source,
    )


def visitor_of(request: Request[Any, Any, Any], default_source: str = "pack_link") -> Visitor:
    return visitor_from(actor_of(request), request.query_params, default_source)


def counts_view(request: Request[Any, Any, Any]) -> bool:
    """False when the gateway says the read is no new visit (`countView=false`, SPEC
    §8/§9): a preview fetcher, a HEAD or a prefetch of a page; for a playback URL, the
    player fetching it before the click or renewing it during a play (the click's own
    request counts the play). The answer is served; nothing is recorded."""
    return request.query_params.get("countView") != "false"
