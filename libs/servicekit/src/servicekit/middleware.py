"""ASGI middleware of every service: the request's OpenTelemetry server span, its trace id
echoed back (`X-Request-ID`) with its statement count, and the HTTP metrics operators read
on /metrics.

A caller's `traceparent` is continued only for callers `trace_from` vouches for (the
gateway: its trusted proxies; internal services: calls with the internal token); anyone
else starts a trace of its own, so nobody outside can plant ids in our logs and events.

The span is ours rather than Litestar's OpenTelemetry plugin's (`litestar.plugins.
opentelemetry`): the gateway answers its busiest route in front of Litestar
(gateway/cached_opens.py), which that plugin never sees, and this middleware already runs on
every request; the plugin would be a second layer (OpenTelemetry's ASGI middleware, with
receive and send spans unless excluded) doing what these few lines do.

One layer does all three, with the metrics' label children kept per route, because this
runs on every request: Litestar's own Prometheus middleware built a Request and looked its
labels up several times a request, which cost the gateway's busiest route about a sixth of
its CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind, format_trace_id
from prometheus_client import Counter, Gauge, Histogram

from servicekit.querycount import STATEMENTS_HEADER, start_counting
from servicekit.tracing import TRACE_HEADER, TRACEPARENT, W3C, setup_tracing, tracer

REQUESTS = Counter(
    "encore_http_requests_total",
    "HTTP requests answered, by route template and status",
    ["service", "method", "path", "status_code"],
)
DURATION = Histogram(
    "encore_http_request_duration_seconds",
    "HTTP request duration, by route template, from the request to the last body byte",
    ["service", "method", "path"],
)
IN_PROGRESS = Gauge("encore_http_requests_in_progress", "HTTP requests being answered", ["service"])

_TRACE_KEY = TRACE_HEADER.lower().encode()
_TRACEPARENT_KEY = TRACEPARENT.encode()
_STATEMENTS_KEY = STATEMENTS_HEADER.lower().encode()
_OURS = (_TRACE_KEY, _STATEMENTS_KEY)  # set here only: an error handler may have set one


def request_middleware(
    service: str, *, trace_from: Callable[[Scope], bool]
) -> Callable[[ASGIApp], ASGIApp]:
    setup_tracing(service)  # every request gets a real trace id, even in a bare test app
    in_progress = IN_PROGRESS.labels(service)
    durations: dict[tuple[str, str], Histogram] = {}
    counts: dict[tuple[str, str, int], Counter] = {}

    def duration_of(method: str, path: str) -> Histogram:
        child = durations.get((method, path))
        if child is None:
            child = durations[method, path] = DURATION.labels(service, method, path)
        return child

    def count_of(method: str, path: str, status: int) -> Counter:
        child = counts.get((method, path, status))
        if child is None:
            child = counts[method, path, status] = REQUESTS.labels(service, method, path, status)
        return child

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            parent = Context()
            for key, value in scope["headers"]:
                if key == _TRACEPARENT_KEY:
                    if trace_from(scope):
                        parent = W3C.extract({TRACEPARENT: value.decode("latin-1")})
                    break
            span = tracer.start_span(scope["method"], parent, SpanKind.SERVER)
            token = otel_context.attach(trace.set_span_in_context(span, parent))
            trace_id = format_trace_id(span.get_span_context().trace_id).encode()
            statements = start_counting()
            started = time.perf_counter()
            status = 500  # what the caller sees if nothing is sent

            async def send_observed(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = [
                        *(h for h in message.get("headers", ()) if h[0].lower() not in _OURS),
                        (_TRACE_KEY, trace_id),
                        (_STATEMENTS_KEY, str(statements[0]).encode()),
                    ]
                await send(message)

            in_progress.inc()
            try:
                await app(scope, receive, send_observed)
            finally:
                in_progress.dec()
                method, path = scope["method"], scope.get("path_template", "unmatched")
                duration_of(method, path).observe(time.perf_counter() - started)
                count_of(method, path, status).inc()
                if span.is_recording():
                    span.update_name(f"{method} {path}")
                    span.set_attributes(
                        {
                            "http.request.method": method,
                            "http.route": path,
                            "url.path": scope["path"],
                            "http.response.status_code": status,
                        }
                    )
                    if status >= 500:
                        span.set_status(trace.StatusCode.ERROR)
                span.end()
                otel_context.detach(token)

        return middleware

    return wrap
