"""The ops port: metrics and readiness beside the API, up and down with the app."""

from __future__ import annotations

import socket

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from servicekit.health import live_handler
from servicekit.ops import serve_ops


async def fine() -> None:
    return None


async def broken() -> None:
    raise ConnectionError("database down")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_ops_port_serves_metrics_and_readiness_while_the_api_does_not() -> None:
    port = free_port()
    app = Litestar(
        [live_handler()],
        lifespan=[serve_ops("127.0.0.1", port, {"database": broken, "kafka": fine})],
    )
    ops = f"http://127.0.0.1:{port}"
    with TestClient(app) as api:
        assert api.get("/metrics").status_code == 404
        assert api.get("/health/ready").status_code == 404
        assert api.get("/health/live").status_code == 200
        metrics = httpx.get(f"{ops}/metrics")
        assert metrics.status_code == 200 and "python_gc_objects_collected_total" in metrics.text
        ready = httpx.get(f"{ops}/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": "failed: ConnectionError", "kafka": "ok"}
    with pytest.raises(httpx.ConnectError):  # stopped with the app
        httpx.get(f"{ops}/health/live")


def test_a_taken_ops_port_fails_the_start() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        app = Litestar([live_handler()], lifespan=[serve_ops("127.0.0.1", port, {})])
        with pytest.raises(BaseExceptionGroup) as raised, TestClient(app):  # anyio's group
            pass
        assert raised.group_contains(OSError, match="already in use")
