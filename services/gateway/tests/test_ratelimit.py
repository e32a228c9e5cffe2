"""Guessing limits: attempts are charged before they are made, what was seen to succeed is
not charged again, and a spent budget refuses right and wrong guesses alike. (These run on
the limits library's in-process storage; tests/test_rate_limits.py runs two gateways on
one Redis.)"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable

import pytest
from prometheus_client import REGISTRY

from contracts.errors import ErrorCode
from gateway.ratelimit import Attempt, Budget, Counters, Limiters
from servicekit.errors import ApiError


def limiters(lookups: int = 30, codes: int = 10, link_codes: int = 100) -> Limiters:
    return Limiters(
        Counters(None),
        lookups=Budget.of("lookup", lookups, 60, "lookups"),
        access_codes=Budget.of("access code", codes, 60, "codes"),
        link_access_codes=Budget.of("link access code", link_codes, 3600, "link codes"),
    )


def store_errors() -> float:
    return REGISTRY.get_sample_value("encore_gateway_rate_limit_store_errors_total") or 0.0


async def admitted(attempt: Awaitable[Attempt]) -> Attempt | None:
    """The attempt if admitted, None if refused with 429 and a Retry-After."""
    refused: ApiError | None = None
    try:
        return await attempt
    except ApiError as exc:
        refused = exc
    assert refused.code is ErrorCode.RATE_LIMITED
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.details["retry_after_seconds"] >= 1
    return None


async def test_a_parallel_burst_is_charged_before_any_guess_is_checked() -> None:
    limits = limiters(link_codes=5)
    burst = [
        admitted(limits.admit(f"10.0.0.{n}", "/pack/abc", "abc", f"guess{n}")) for n in range(200)
    ]
    passed = [a for a in await asyncio.gather(*burst) if a is not None]
    assert len(passed) == 5, "no more guesses reach sharing than the link's budget"
    other_link = await limits.admit("10.0.1.1", "/pack/other", "other", "guess")
    assert other_link is not None


async def test_a_code_seen_accepted_is_not_charged_but_a_spent_budget_refuses_it() -> None:
    limits = limiters(codes=3)
    (await limits.admit("10.0.0.1", "/pack/abc", "abc", "right")).succeeded()  # charged once
    for _ in range(20):  # a listener playing the whole pack sends the code each time
        (await limits.admit("10.0.0.1", "/pack/abc", "abc", "right")).succeeded()
    for n in range(2):
        (await limits.admit("10.0.0.1", "/pack/abc", "abc", f"wrong{n}")).code_refused()
    for code in ("right", "wrong2"):  # a 429 does not tell a right code from a wrong one
        with pytest.raises(ApiError) as refused:
            await limits.admit("10.0.0.1", "/pack/abc", "abc", code)
        assert refused.value.code is ErrorCode.RATE_LIMITED
    (await limits.admit("10.0.0.2", "/pack/abc", "abc", "right")).succeeded()


async def test_found_links_are_not_charged_and_a_spent_client_is_remembered() -> None:
    limits = limiters(lookups=3)
    (await limits.admit("10.0.0.1", "/track/real")).succeeded()  # charged once
    for _ in range(50):
        (await limits.admit("10.0.0.1", "/track/real")).succeeded()
    assert not limits.limited("10.0.0.1")
    for n in range(2):
        await (await limits.admit("10.0.0.1", f"/track/guess{n}")).lookup_failed()
    assert limits.limited("10.0.0.1"), "the cached-link layer refuses it without asking"
    with pytest.raises(ApiError):
        limits.check_spent("10.0.0.1")
    with pytest.raises(ApiError):
        await limits.admit("10.0.0.1", "/track/real")
    assert not limits.limited("10.0.0.2")
    limits.check_spent("10.0.0.2")


async def test_without_redis_the_limits_hold_in_this_process_and_are_counted() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    counters = Counters(f"redis://127.0.0.1:{port}/0", timeout_seconds=0.2)
    limits = Limiters(
        counters,
        lookups=Budget.of("lookup", 3, 60, "lookups"),
        access_codes=Budget.of("access code", 10, 60, "codes"),
        link_access_codes=Budget.of("link access code", 100, 3600, "link codes"),
    )
    errors_before = store_errors()
    outcomes = await asyncio.gather(
        *(admitted(limits.admit("10.0.0.1", f"/track/guess{n}")) for n in range(10))
    )
    assert sum(a is not None for a in outcomes) == 3
    assert store_errors() >= errors_before + 10
    await counters.aclose()
