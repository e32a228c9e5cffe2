"""Guessing limits hold across gateway replicas: two gateway processes on one stack (one
Redis) refuse a parallel burst once the shared budget is spent, whichever replica and
whichever client address each guess comes through."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable, Iterator

import httpx
import pytest

from contracts import ids
from devstack.suite import Suite
from gateway.settings import GatewaySettings
from tests.conftest import Artist, assert_error
from tests.test_sharing import make_pack, share_pack

SECOND = "gateway-2"
DEFAULTS = GatewaySettings.model_fields
LINK_LIMIT = DEFAULTS["access_code_link_attempt_limit"].default
CLIENT_CODE_LIMIT = DEFAULTS["access_code_attempt_limit"].default
LOOKUP_LIMIT = DEFAULTS["failed_lookup_limit"].default
IN_FLIGHT = 200


@pytest.fixture(scope="module")
def gateways(suite: Suite) -> Iterator[list[str]]:
    """The suite's gateway and a second replica of it, on its own port."""
    suite.start("gateway", name=SECOND)
    try:
        suite.wait_ready((SECOND,), timeout=60)
        yield [suite.gateway_url, suite.url(SECOND)]
    finally:
        suite.stop(SECOND)


def burst(requests: list[tuple[str, str, dict[str, str]]]) -> Counter[int]:
    """Send every (gateway, path+query, headers) at once, IN_FLIGHT at a time (more would
    only queue in the client), and count the answers by status."""

    async def run() -> Counter[int]:
        slots = asyncio.Semaphore(IN_FLIGHT)
        # a fresh connection each: a kept-alive one the server closes while idle would
        # fail its next request without saying whether the gateway saw it
        limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=0)
        async with httpx.AsyncClient(limits=limits, timeout=120) as client:

            async def send(url: str, headers: dict[str, str]) -> httpx.Response:
                async with slots:
                    return await client.get(url, headers=headers)

            answers = await asyncio.gather(
                *(send(gateway + path, headers) for gateway, path, headers in requests)
            )
        for answer in answers:
            if answer.status_code == 429:
                error = answer.json()["error"]
                assert error["code"] == "RATE_LIMITED"
                assert int(answer.headers["retry-after"]) >= 1
                assert error["details"]["retry_after_seconds"] >= 1
            elif answer.status_code == 403:
                assert answer.json()["error"]["code"] == "ACCESS_CODE_INVALID"
        return Counter(answer.status_code for answer in answers)

    return asyncio.run(run())


@pytest.mark.timeout(900)  # 1,000 requests on a machine shared with other test runs
def test_a_thousand_parallel_guesses_on_one_link_get_no_more_than_its_budget(
    gateways: list[str], api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    pack, _ = make_pack(api, artist, 1)
    slug = share_pack(api, artist, pack["id"], access_code="right-code")["slug"]
    # 250 addresses, 4 guesses each: every address stays under its own limit, so only
    # the link's budget can stop them
    replicas = itertools.cycle(gateways)
    guesses = [
        (
            next(replicas),
            f"/v1/public/pack-links/{slug}?accessCode=guess-{n}",
            {"X-Forwarded-For": f"10.77.0.{n % 250}"},
        )
        for n in range(1000)
    ]
    statuses = burst(guesses)
    # exactly the budget is let through to sharing, across both replicas (not the budget
    # each: it is Redis's, shared); each of those is a wrong code (403),
    # unless sharing, checking up to 100 argon2id hashes two at a time, took longer than
    # the gateway's upstream timeout on a loaded machine (503: admitted, never a 200)
    assert statuses[429] == 1000 - LINK_LIMIT, statuses
    assert statuses[403] + statuses[503] == LINK_LIMIT, statuses
    assert statuses[403] >= LINK_LIMIT // 2, statuses
    assert set(statuses) <= {403, 429, 503}, statuses

    # the link stays shut for everyone, the right code too (a refusal tells nothing)
    for gateway in gateways:
        refused = httpx.get(
            f"{gateway}/v1/public/pack-links/{slug}",
            params={"accessCode": "right-code"},
            headers={"X-Forwarded-For": "10.78.0.1"},
        )
        assert_error(refused, 429, "RATE_LIMITED")


def test_one_address_gets_its_budget_once_across_both_gateways(
    gateways: list[str], api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    pack, _ = make_pack(api, artist, 1)
    slug = share_pack(api, artist, pack["id"], access_code="right-code")["slug"]
    address = {"X-Forwarded-For": "10.79.0.1"}
    replicas = itertools.cycle(gateways)
    codes = [
        (next(replicas), f"/v1/public/pack-links/{slug}?accessCode=guess-{n}", address)
        for n in range(4 * CLIENT_CODE_LIMIT)
    ]
    assert burst(codes) == {403: CLIENT_CODE_LIMIT, 429: 3 * CLIENT_CODE_LIMIT}

    other = {"X-Forwarded-For": "10.79.0.2"}
    lookups = [
        (next(replicas), f"/v1/public/track-links/{ids.new_share_token()}", other)
        for _ in range(2 * LOOKUP_LIMIT)
    ]
    assert burst(lookups) == {404: LOOKUP_LIMIT, 429: LOOKUP_LIMIT}

    for gateway in gateways:  # and the link still opens for others, on either replica
        opened = httpx.get(
            f"{gateway}/v1/public/pack-links/{slug}",
            params={"accessCode": "right-code"},
            headers={"X-Forwarded-For": "10.79.0.3"},
        )
        assert opened.status_code == 200, opened.text
