"""ASGI middleware: give every request a trace id and echo it back, with its statement count."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.querycount import STATEMENTS_HEADER, start_counting
from servicekit.tracing import TRACE_HEADER, ensure_trace_id


def trace_middleware(app: ASGIApp) -> ASGIApp:
    header_key = TRACE_HEADER.lower().encode()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == header_key), None)
        trace_id = ensure_trace_id(incoming)
        statements = start_counting()

        async def send_with_trace(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers[TRACE_HEADER] = trace_id
                headers[STATEMENTS_HEADER] = str(statements[0])
            await send(message)

        await app(scope, receive, send_with_trace)

    return middleware
