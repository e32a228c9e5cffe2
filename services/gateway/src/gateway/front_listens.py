"""Anonymous listening beacons, answered in front of Litestar as cached track-link opens
are (cached_opens.py, which says why: Litestar's routing and injection cost more than
everything a beacon needs).

Only the plain case is answered here: `POST /v1/public/listens` without credentials, a
valid Host, a body within the limit that validates as a `ListenBatch`. It is queued exactly
as the Litestar route queues it (gateway/listens.py) and gets the same 202 `{"accepted": n}`.
Everything else, a malformed or oversized body included, goes on to the Litestar route
(`api/listens.py`, the one documented and fuzzed) with the body it sent replayed, so that
every refusal is the route's own envelope.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)
from pydantic import ValidationError

from contracts.api.listens import MAX_LISTEN_BODY_BYTES, ListenBatch
from gateway.context import GatewayContext
from gateway.domain.engagement import raw_agent_and_preview
from gateway.hosts import is_valid_host
from gateway.listens import LISTEN_BEACONS
from servicekit.middleware import request_middleware
from servicekit.tracing import current_traceparent

PATHS = ("/v1/public/listens", "/v1/public/listens/")
ROUTE = "/v1/public/listens"
CREDENTIALS = (b"x-api-key", b"authorization")
BATCH = "encore.listen_batch"  # scope state: the batch `front` validated, for `answer`


def serve_listens(app: ASGIApp, ctx: GatewayContext) -> ASGIApp:
    client_address = ctx.proxies.client_address

    def plain(scope: HTTPScope) -> bool:
        if scope["method"] != "POST" or scope["path"] not in PATHS:
            return False
        for name, value in scope["headers"]:
            if name in CREDENTIALS or (name == b"host" and not is_valid_host(value)):
                return False
        return True

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        batch: ListenBatch = scope["state"][BATCH]
        LISTEN_BEACONS.labels("accepted").inc(len(batch.beacons))
        agent, _ = raw_agent_and_preview("POST", scope["headers"])
        ctx.listens.accept(
            batch,
            None,
            client=client_address(scope),
            agent=agent,
            traceparent=current_traceparent(),
        )
        body = b'{"accepted":%d}' % len(batch.beacons)
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 202,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
        await send(start)
        done: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": body,
            "more_body": False,
        }
        await send(done)

    observed = request_middleware("gateway", trace_from=ctx.proxies.peer_trusted)(answer)

    async def front(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not plain(scope):
            await app(scope, receive, send)
            return
        read: list[ReceiveMessage] = []
        size, more = 0, True
        while more and size <= MAX_LISTEN_BODY_BYTES:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        batch = None
        if not more and size <= MAX_LISTEN_BODY_BYTES:
            try:
                batch = ListenBatch.model_validate_json(
                    b"".join(m.get("body", b"") for m in read if m["type"] == "http.request")
                )
            except ValidationError:
                batch = None
        if batch is not None:
            scope["path_template"] = ROUTE
            scope.setdefault("state", {})[BATCH] = batch
            await observed(scope, receive, send)
            return

        async def replay() -> ReceiveMessage:
            return read.pop(0) if read else await receive()

        await app(scope, replay, send)

    return front
