"""Anonymous opens of cached track links, answered in front of Litestar.

The busiest public request is an anonymous `GET /v1/public/track-links/{token}` of a link
the gateway has already resolved (link_cache.py). Litestar's routing, dependency injection
and response objects cost more CPU than everything else such an open does: measured here
with wrk, a bare ASGI answer costs ~46 µs and the same constant answer through Litestar
~131 µs. This layer answers exactly that case, with the same body, headers, metrics and
recorded view as the Litestar route (`api/public.py`, which stays the one that is
documented and fuzzed), and hands everything else to the Litestar app untouched: a token
not cached, a caller who sent credentials, a client that is rate-limited, other routes.
tests/test_public_hot_path.py checks that both answer alike.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

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
from gateway.engagement import raw_agent_and_preview
from gateway.hosts import is_valid_host
from gateway.link_cache import HITS, CachedLink
from gateway.track_link_opens import visit_params
from servicekit.middleware import request_middleware
from servicekit.tracing import current_trace_id

PREFIX = "/v1/public/track-links/"
# the route's template as Litestar reports it in metrics: "/v1/public/track-links/{token}"
ROUTE = re.sub(r"\{(\w+):\w+\}", r"{\1}", PublicTrackLinksController.path)
CREDENTIALS = (b"x-api-key", b"authorization")
JSON = (b"content-type", b"application/json")
ANSWERED = Counter(
    "encore_gateway_front_answers_total",
    "Anonymous track-link opens answered from the cache in front of Litestar",
)
CACHED = "encore.cached_link"  # scope state: the entry `front` found, for `answer`


def serve_cached_opens(app: ASGIApp, ctx: GatewayContext) -> ASGIApp:
    opens = ctx.track_link_opens
    client_address = ctx.proxies.client_address

    def cached_open(scope: HTTPScope) -> CachedLink | None:
        """The cached link this request opens, if it is a case this layer answers."""
        if scope["method"] != "GET" or not scope["path"].startswith(PREFIX):
            return None
        token = scope["path"][len(PREFIX) :]
        if not token or "/" in token:
            return None
        for name, value in scope["headers"]:
            if name in CREDENTIALS or (name == b"host" and not is_valid_host(value)):
                return None  # a signed-in caller, or Litestar's 400 for a bad Host
        cached = opens.cached(token)
        if cached is None or ctx.limiters.limited(client_address(scope)):
            return None
        return cached

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        """Inside the request middleware: trace id and metrics as on every route."""
        cached: CachedLink = scope["state"][CACHED]
        ANSWERED.inc()
        HITS.inc()
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        agent, preview = raw_agent_and_preview("GET", scope["headers"])  # `front` only lets GET in
        opens.record(
            cached.link_id,
            visit_params(query),
            None,
            current_trace_id(),
            client=client_address(scope),
            agent=agent,
            preview=preview,
        )
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 200,
            "headers": [JSON, (b"content-length", str(len(cached.body)).encode())],
        }
        await send(start)
        body: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": cached.body,
            "more_body": False,
        }
        await send(body)

    observed = request_middleware("gateway", trace_from=ctx.proxies.peer_trusted)(answer)

    async def front(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and (cached := cached_open(scope)) is not None:
            scope["path_template"] = ROUTE
            scope.setdefault("state", {})[CACHED] = cached
            await observed(scope, receive, send)
        else:
            await app(scope, receive, send)

    return front
