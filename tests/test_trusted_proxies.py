"""Forwarded headers count only from the proxies the gateway trusts.

The suite trusts loopback's 127.0.0.1 as its proxy (conftest.py). Linux routes all of
127.0.0.0/8 to loopback, so a client bound to 127.0.0.2 or 127.0.0.3 is a caller that
reaches the gateway directly, as any pod could before the NetworkPolicy said otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devstack.suite import Suite
from tests.conftest import assert_error


def direct_client(suite: Suite, address: str) -> httpx.Client:
    return httpx.Client(
        base_url=suite.gateway_url,
        timeout=15,
        transport=httpx.HTTPTransport(local_address=address),
    )


@pytest.fixture
def untrusted(suite: Suite) -> Iterator[httpx.Client]:
    with direct_client(suite, "127.0.0.2") as client:
        yield client


def test_a_trace_from_an_untrusted_peer_is_not_continued(
    api: httpx.Client, untrusted: httpx.Client
) -> None:
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    traceparent = {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-00"}
    planted = untrusted.get("/v1/public/track-links/nope", headers=traceparent)
    assert_error(planted, 404, "TRACK_LINK_UNAVAILABLE")
    assert planted.headers["x-request-id"] != trace_id
    assert planted.json()["error"]["trace_id"] == planted.headers["x-request-id"]
    # through the trusted proxy (127.0.0.1) the caller's trace is continued
    proxied = api.get("/v1/public/track-links/nope", headers=traceparent)
    assert proxied.headers["x-request-id"] == trace_id


def test_a_spoofed_forwarded_address_does_not_escape_the_guessing_limit(
    suite: Suite, api: httpx.Client
) -> None:
    """An untrusted peer writing a new X-Forwarded-For each time is still one client."""
    with direct_client(suite, "127.0.0.3") as guesser:
        statuses = [
            guesser.get(
                f"/v1/public/track-links/guess{n}", headers={"X-Forwarded-For": f"10.250.0.{n}"}
            ).status_code
            for n in range(31)  # ENCORE_FAILED_LOOKUP_LIMIT: 30
        ]
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429
    # while behind the trusted proxy the same forwarded addresses are separate clients
    for n in range(3):
        response = api.get(
            f"/v1/public/track-links/guess{n}", headers={"X-Forwarded-For": f"10.250.1.{n}"}
        )
        assert response.status_code == 404
