"""The cached-open layer's Host check gives Litestar's verdict on the same header."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar import Litestar, get

from gateway.hosts import is_valid_host

HOSTS = [
    b"example.com",
    b"127.0.0.1:8000",
    b"[::1]:8000",
    b"user@host",
    b"a%20b",
    b"",
    b"bad host",
    b"bad/host",
    b"bad\\host",
    b'bad"host',
    b"caf\xc3\xa9.example",
    b"evil\r\nx",
    b"bad<host>",
]


@get("/", sync_to_thread=False)
def index() -> str:
    return "ok"


def litestar_status(host: bytes) -> int:
    """What Litestar answers for a GET with this Host header."""
    app = Litestar([index])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", host)],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


@pytest.mark.parametrize("host", HOSTS)
def test_the_host_check_agrees_with_litestar(host: bytes) -> None:
    assert is_valid_host(host) == (litestar_status(host) != 400)


def test_both_verdicts_occur() -> None:
    verdicts = {is_valid_host(host) for host in HOSTS}
    assert verdicts == {True, False}
