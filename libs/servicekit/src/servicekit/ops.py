"""The operators' port: `/metrics` and `/health/ready` (and `/health/live`), apart from the API.

The API port is what the public reaches (the gateway's, through the ingress), so what only
operators should see is not on it: a second, small HTTP server in the same process listens
on ENCORE_OPS_PORT, which no Service or Ingress routes. It runs inside the app's lifespan,
so it works however uvicorn was started (`uvicorn ... --factory`, `uvicorn.run`): it binds
when the app has started (a taken port fails the start), and stops when the app stops.
The API port keeps `/health/live`, for the kubelet's liveness and startup probes: that the
port serving requests answers is what those probes must know.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import uvicorn
from litestar import Litestar
from litestar.plugins.prometheus import PrometheusController

from servicekit.health import Check, live_handler, ready_handler

log = logging.getLogger(__name__)


class OperatorMetrics(PrometheusController):
    """`/metrics`: everything this process registered (HTTP, Kafka, outbox, ...)."""

    include_in_schema = False


def ops_app(checks: Mapping[str, Check]) -> Litestar:
    return Litestar(
        route_handlers=[OperatorMetrics, live_handler(), ready_handler(checks)],
        openapi_config=None,
    )


class _OpsServer(uvicorn.Server):
    """Leaves signals to the process's own server: this one stops with the app."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def serve_ops(
    host: str, port: int, checks: Mapping[str, Check]
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A Litestar lifespan hook that serves `ops_app(checks)` on host:port while it runs."""

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # bound here, before serving: a taken port fails the start with its OSError
        listening = socket.create_server((host, port), family=family)
        config = uvicorn.Config(
            ops_app(checks),
            lifespan="off",
            access_log=False,
            log_config=None,  # the service configured logging; leave it as it is
            proxy_headers=False,
        )
        server = _OpsServer(config)
        serving = asyncio.create_task(server.serve(sockets=[listening]), name="ops-server")
        try:
            yield
        finally:
            server.should_exit = True
            try:
                await serving
            finally:
                listening.close()

    return lifespan
