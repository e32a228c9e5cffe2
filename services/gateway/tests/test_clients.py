"""Client addresses and trace ids are believed only from the proxies we trust."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

from litestar import Litestar, get
from litestar.testing import TestClient
from litestar.types import Scope

from gateway.clients import TrustedProxies
from servicekit.middleware import request_middleware

INGRESS = TrustedProxies([ip_network("10.0.0.0/8"), ip_network("fd00::/8")])


def scope(peer: str | None, *forwarded: str, trace: str | None = None) -> Scope:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    if trace is not None:
        headers.append((b"traceparent", f"00-{trace}-00f067aa0ba902b7-00".encode()))
    return {  # type: ignore[return-value]
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": headers,
        "client": (peer, 51234) if peer else None,
    }


def test_trusting_nobody_the_peer_is_the_client_whatever_it_forwards() -> None:
    nobody = TrustedProxies([])
    assert nobody.client_address(scope("10.1.2.3", "203.0.113.9")) == "10.1.2.3"
    assert not nobody.peer_trusted(scope("10.1.2.3"))


def test_a_spoofed_forwarded_header_from_an_untrusted_peer_is_ignored() -> None:
    assert INGRESS.client_address(scope("198.51.100.4", "203.0.113.9")) == "198.51.100.4"
    assert INGRESS.client_address(scope("198.51.100.4", "10.0.0.1")) == "198.51.100.4"
    assert not INGRESS.peer_trusted(scope("198.51.100.4"))


def test_through_trusted_proxies_the_first_untrusted_address_from_the_right_is_the_client() -> None:
    # the client claimed 6.6.6.6; the first proxy saw 203.0.113.9; a second proxy 10.0.0.7
    chain = scope("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.7")
    assert INGRESS.client_address(chain) == "203.0.113.9"
    assert INGRESS.peer_trusted(chain)
    # the same hops in separate headers, with IPv6 proxies
    split = scope("fd00::2", "6.6.6.6", "2001:db8::9", "fd00::7")
    assert INGRESS.client_address(split) == "2001:db8::9"
    # one hop: the address the proxy appended
    assert INGRESS.client_address(scope("10.0.0.2", "203.0.113.9")) == "203.0.113.9"


def test_what_the_proxies_cannot_vouch_for_ends_at_the_last_trusted_hop() -> None:
    assert INGRESS.client_address(scope("10.0.0.2")) == "10.0.0.2"  # no header: the peer
    assert INGRESS.client_address(scope("10.0.0.2", "10.0.0.9")) == "10.0.0.9"  # all ours
    assert INGRESS.client_address(scope("10.0.0.2", "1.2.3.4, junk, 10.0.0.9")) == "10.0.0.9"
    assert INGRESS.client_address(scope(None, "203.0.113.9")) == "unknown"


async def echoed_trace(peer: str, trace: str) -> str:
    """The trace id (X-Request-ID) the gateway's request middleware answers a request with."""

    async def app(_: Scope, __: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    wrapped = request_middleware("test", trace_from=INGRESS.peer_trusted)(app)
    await wrapped(scope(peer, trace=trace), receive, send)
    headers = dict(sent[0]["headers"])
    return str(headers[b"x-request-id"].decode())


INGRESS_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PLANTED = "0af7651916cd43dd8448eb211c80319c"


async def test_a_trace_is_continued_only_from_a_trusted_proxy() -> None:
    assert await echoed_trace("10.0.0.2", INGRESS_TRACE) == INGRESS_TRACE
    fresh = await echoed_trace("198.51.100.4", PLANTED)
    assert fresh != PLANTED and len(fresh) == 32 and fresh != "0" * 32


def test_litestar_answers_an_untrusted_caller_with_a_trace_id_of_its_own() -> None:
    @get("/ping", sync_to_thread=False)
    def ping() -> dict[str, str]:
        return {"ok": "yes"}

    app = Litestar([ping], middleware=[request_middleware("test", trace_from=INGRESS.peer_trusted)])
    with TestClient(app) as client:  # its peer is "testclient": not one of our proxies
        planted = f"00-{PLANTED}-00f067aa0ba902b7-01"
        response = client.get("/ping", headers={"traceparent": planted})
    assert response.status_code == 200
    assert response.headers["x-request-id"] not in ("", PLANTED)
