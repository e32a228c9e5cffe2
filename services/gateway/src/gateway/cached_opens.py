"""Anonymous opens of cached track links, answered in front of Litestar.

The busiest public requests are an anonymous `GET /v1/public/track-links/{token}` of a link
the gateway has already resolved (link_cache.py), and the page a person opens for it,
`GET /t/{token}` (and its embed, `/embed/t/{token}`). Litestar's routing, dependency injection
and response objects cost more CPU than everything else such an open does: measured here
with wrk, a bare ASGI answer costs ~46 µs and the same constant answer through Litestar
~131 µs. This layer answers exactly that case, with the same body, headers, metrics and
recorded view as the Litestar route (`api/public.py`, which stays the one that is
documented and fuzzed; `web/pages.py` for the page, whose `track_page` renders both;
`domain/engagement.py` decides for both that a card fetcher, bot or prefetch is a preview), and hands
everything else to the Litestar app untouched: a token not cached, a caller who sent
credentials (or, on a page, any cookie), a client that is rate-limited, a HEAD, other
routes. tests/test_public_hot_path.py and tests/test_web_pages.py check that both answer
alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Receive,
    Scope,
    Send,
)
from prometheus_client import Counter

from gateway.api.public import PublicTrackLinksController
from gateway.context import GatewayContext
from gateway.domain.engagement import raw_agent_and_preview
from gateway.hosts import is_valid_host
from gateway.link_cache import HITS, CachedLink
from gateway.track_link_opens import visit_params
from gateway.web.pages import NAME, PagesController, Req, track_page
from servicekit.middleware import request_middleware
from servicekit.tracing import current_traceparent

PREFIX = "/v1/public/track-links/"
# the route's template as Litestar reports it in metrics: "/v1/public/track-links/{token}"
ROUTE = re.sub(r"\{(\w+):\w+\}", r"{\1}", PublicTrackLinksController.path)
CREDENTIALS = (b"x-api-key", b"authorization")
JSON = (b"content-type", b"application/json")
HTML = (b"content-type", b"text/html; charset=utf-8")
# page prefix: (embed?, the route's template as Litestar reports it, "/t/{token}")
PAGES = {
    f"/{prefix}/": (embed, re.sub(r"\{(\w+):\w+\}", r"{\1}", next(iter(handler.paths))))
    for prefix, embed, handler in (
        ("t", False, PagesController.track_link),
        ("embed/t", True, PagesController.track_embed),
    )
}
ANSWERED = Counter(
    "encore_gateway_front_answers_total",
    "Anonymous track-link opens (JSON and pages) answered from the cache in front of Litestar",
)
CACHED = "encore.cached_link"  # scope state: the entry `front` found, for `answer`


@dataclass(frozen=True, slots=True)
class FrontOpen:
    """What `front` found for `answer`: the cached link, and for a page its token."""

    cached: CachedLink
    token: str | None = None  # set for a page
    embed: bool = False


@lru_cache(maxsize=8)
def raw_headers(headers: tuple[tuple[str, str], ...]) -> list[tuple[bytes, bytes]]:
    return [(name.encode(), value.encode()) for name, value in headers]


def serve_cached_opens(app: ASGIApp, ctx: GatewayContext) -> ASGIApp:
    opens = ctx.track_link_opens
    client_address = ctx.proxies.client_address

    def cached_open(scope: HTTPScope) -> tuple[FrontOpen, str] | None:
        """The cached link this request opens and its route, if it is a case this layer
        answers."""
        if scope["method"] != "GET":
            return None
        path = scope["path"]
        page = None
        if path.startswith(PREFIX):
            token, route = path[len(PREFIX) :], ROUTE
            if not token or "/" in token:
                return None
        else:
            prefix = path[: path.find("/", 1) + 1]
            if prefix == "/embed/":
                prefix = path[: path.find("/", len(prefix)) + 1]
            page = PAGES.get(prefix)
            if page is None:
                return None
            token, route = path[len(prefix) :], page[1]
            if NAME.fullmatch(token) is None:
                return None
        for name, value in scope["headers"]:
            if (
                name in CREDENTIALS
                or (name == b"host" and not is_valid_host(value))
                or (page is not None and name == b"cookie")
            ):
                # a signed-in caller, Litestar's 400 for a bad Host, or a page request with
                # cookies (a session or access-code cookie is Litestar's to read)
                return None
        cached = opens.cached(token)
        if cached is None or ctx.limiters.limited(client_address(scope)):
            return None
        if page is None:
            return FrontOpen(cached), route
        return FrontOpen(cached, token, page[0]), route

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        """Inside the request middleware: server span and metrics as on every route."""
        found: FrontOpen = scope["state"][CACHED]
        cached = found.cached
        ANSWERED.inc()
        HITS.inc()
        if found.token is None:
            body, headers = cached.body, [JSON]
        else:
            request: Req = Request(scope)
            html, page_headers = track_page(request, found.token, cached.body, ctx, found.embed)
            body, headers = html, [HTML, *raw_headers(tuple(page_headers.items()))]
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        agent, preview = raw_agent_and_preview("GET", scope["headers"])  # `front` only lets GET in
        opens.record(
            cached.link_id,
            visit_params(query),
            None,
            current_traceparent(),
            client=client_address(scope),
            agent=agent,
            preview=preview,
        )
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 200,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
        await send(start)
        event: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": body,
            "more_body": False,
        }
        await send(event)

    observed = request_middleware("gateway", trace_from=ctx.proxies.peer_trusted)(answer)

    async def front(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and (found := cached_open(scope)) is not None:
            scope["path_template"] = found[1]
            scope.setdefault("state", {})[CACHED] = found[0]
            await observed(scope, receive, send)
        else:
            await app(scope, receive, send)

    return front
