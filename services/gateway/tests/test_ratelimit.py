"""Failed-guess limits: only failures count, and only failing clients are remembered."""

from __future__ import annotations

import pytest

from gateway.ratelimit import FailureLimiter
from servicekit.errors import ApiError


def test_a_client_is_limited_after_its_failures_and_others_are_not() -> None:
    limiter = FailureLimiter("lookup", max_failures=3, window_seconds=60)
    for _ in range(3):
        assert not limiter.limited("10.0.0.1")
        limiter.check("10.0.0.1")
        limiter.fail("10.0.0.1")
    assert limiter.limited("10.0.0.1")
    with pytest.raises(ApiError) as raised:
        limiter.check("10.0.0.1")
    assert raised.value.headers is not None and int(raised.value.headers["Retry-After"]) >= 1
    assert not limiter.limited("10.0.0.2")


def test_visitors_who_never_fail_cannot_push_failing_clients_out() -> None:
    limiter = FailureLimiter("lookup", max_failures=1, window_seconds=60, max_clients=2)
    limiter.fail("guesser")
    for n in range(1000):  # the hot path asks for every open of a real link
        limiter.check(f"visitor-{n}")
        assert not limiter.limited(f"visitor-{n}")
    assert limiter.limited("guesser")
