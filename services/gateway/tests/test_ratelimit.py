"""Guessing limits: attempts are charged before they are made, what was seen to succeed is
not charged again, and a spent budget refuses right and wrong guesses alike. (These run on
the limits library's in-process storage; tests/test_rate_limits.py runs two gateways on
one Redis.)"""

from __future__ import annotations

import asyncio
import socket
from typing import Literal

import pytest
from prometheus_client import REGISTRY

from contracts.errors import ErrorCode
from gateway.ratelimit import Budget, Counters, Limiters
from servicekit.errors import ApiError


def limiters(lookups: int = 30, codes: int = 10, link_codes: int = 100) -> Limiters:
    return Limiters(
        Counters(None),
        lookups=Budget.of("lookup", lookups, 60, "lookups"),
        access_codes=Budget.of("access code", codes, 60, "codes"),
        link_access_codes=Budget.of("link access code", link_codes, 3600, "link codes"),
    )


Outcome = Literal["succeeded", "code_refused", "lookup_failed"]


async def tried(
    limits: Limiters,
    client: str,
    lookup: str,
    link: str | None = None,
    code: str | None = None,
    outcome: Outcome = "succeeded",
) -> bool:
    """One attempt, reported as `outcome`: True if admitted, False if refused with 429
    and a Retry-After."""
    refused: ApiError | None = None
    try:
        async with limits.attempt(client, lookup, link, code) as attempt:
            if outcome == "succeeded":
                attempt.succeeded()
            elif outcome == "code_refused":
                attempt.code_refused()
            else:
                await attempt.lookup_failed()
            return True
    except ApiError as exc:
        refused = exc
    assert refused.code is ErrorCode.RATE_LIMITED
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.details["retry_after_seconds"] >= 1
    return False


async def test_a_parallel_burst_is_charged_before_any_guess_is_checked() -> None:
    limits = limiters(link_codes=5)
    burst = [
        tried(limits, f"10.0.0.{n}", "/pack/abc", "abc", f"guess{n}", "code_refused")
        for n in range(200)
    ]
    assert sum(await asyncio.gather(*burst)) == 5, "no more guesses than the link's budget"
    assert await tried(limits, "10.0.1.1", "/pack/other", "other", "guess", "code_refused")


async def test_a_code_seen_accepted_is_not_charged_but_a_spent_budget_refuses_it() -> None:
    limits = limiters(codes=3)
    assert await tried(limits, "10.0.0.1", "/pack/abc", "abc", "right")  # charged once
    for _ in range(20):  # a listener playing the whole pack sends the code each time
        assert await tried(limits, "10.0.0.1", "/pack/abc", "abc", "right")
    for n in range(2):
        assert await tried(limits, "10.0.0.1", "/pack/abc", "abc", f"wrong{n}", "code_refused")
    # a 429 does not tell a right code from a wrong one
    assert not await tried(limits, "10.0.0.1", "/pack/abc", "abc", "right")
    assert not await tried(limits, "10.0.0.1", "/pack/abc", "abc", "wrong2", "code_refused")
    assert await tried(limits, "10.0.0.2", "/pack/abc", "abc", "right")


async def test_found_links_are_not_charged_and_a_spent_client_is_remembered() -> None:
    limits = limiters(lookups=3)
    assert await tried(limits, "10.0.0.1", "/track/real")  # charged once
    for _ in range(50):
        assert await tried(limits, "10.0.0.1", "/track/real")
    assert not limits.limited("10.0.0.1")
    for n in range(2):
        assert await tried(limits, "10.0.0.1", f"/track/guess{n}", outcome="lookup_failed")
    assert limits.limited("10.0.0.1"), "the cached-link layer refuses it without asking"
    with pytest.raises(ApiError):
        limits.check_spent("10.0.0.1")
    assert not await tried(limits, "10.0.0.1", "/track/real")
    assert not limits.limited("10.0.0.2")
    limits.check_spent("10.0.0.2")


async def test_the_same_attempt_in_flight_is_waited_for_not_charged_again() -> None:
    limits = limiters(lookups=3)
    opens = [tried(limits, "10.0.0.1", "/track/new") for _ in range(50)]
    assert all(await asyncio.gather(*opens)), "50 opens of one new link at once: one lookup"
    for n in range(2):
        assert await tried(limits, "10.0.0.1", f"/track/guess{n}", outcome="lookup_failed")
    assert not await tried(limits, "10.0.0.1", "/track/guess2", outcome="lookup_failed")
    assert not limits.pending, "nothing is left waiting"


async def test_without_redis_each_replica_holds_the_limits_in_its_own_memory() -> None:
    """Redis unreachable: two replicas pointed at it each keep the whole budget themselves
    (the limits hold per replica, as before Redis), neither fails open nor closed, and a
    client spent on one replica is refused at once by it while another client is not."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    replicas = [Counters(f"redis://127.0.0.1:{port}/0", timeout_seconds=0.2) for _ in range(2)]
    limits = [
        Limiters(
            counters,
            lookups=Budget.of("lookup", 3, 60, "lookups"),
            access_codes=Budget.of("access code", 10, 60, "codes"),
            link_access_codes=Budget.of("link access code", 100, 3600, "link codes"),
        )
        for counters in replicas
    ]
    for replica in limits:
        guesses = [
            tried(replica, "10.0.0.1", f"/track/guess{n}", outcome="lookup_failed")
            for n in range(10)
        ]
        assert sum(await asyncio.gather(*guesses)) == 3
        assert replica.limited("10.0.0.1")
        assert await tried(replica, "10.0.0.2", "/track/real")
    for counters in replicas:
        await counters.aclose()


async def test_anonymous_engagement_is_admitted_up_to_each_clients_budget() -> None:
    """Issue 17: one client's engagement past its budget is dropped (and counted); another
    client and signed-in callers (None) are not held back; a budget with fewer left than a
    batch holds gives what is left."""
    limits = Limiters(
        Counters(None),
        lookups=Budget.of("lookup", 30, 60, "lookups"),
        access_codes=Budget.of("access code", 10, 60, "codes"),
        link_access_codes=Budget.of("link access code", 100, 3600, "link codes"),
        engagement=Budget.of("anonymous engagement", 5, 600, "engagement"),
    )
    dropped = REGISTRY.get_sample_value("encore_gateway_engagement_dropped_total") or 0.0
    assert await limits.admit(["a", "a", "a"]) == [True, True, True]
    assert await limits.admit(["a", None, "b", "a", "a", "a"]) == [
        True,
        True,
        True,
        True,
        False,
        False,
    ]
    assert await limits.admit(["a", None]) == [False, True]
    assert REGISTRY.get_sample_value("encore_gateway_engagement_dropped_total") == dropped + 3
    assert await limits.admit(["b"] * 5) == [True] * 4 + [False]
