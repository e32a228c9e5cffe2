"""Per-client limits on failed guesses: unknown tokens/slugs/codes and wrong access codes.

Only failures count, so a visitor opening real links is never slowed down, while a loop
guessing tokens or access codes is cut off with 429 RATE_LIMITED and a Retry-After. The
counters live in this process: with several gateway replicas, each enforces its own share
(the limit per client is at most replicas x limit).
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

from prometheus_client import Counter

from contracts.errors import ErrorCode
from servicekit.errors import ApiError

LIMITED = Counter("encore_gateway_rate_limited_total", "Requests refused by a rate limit", ["kind"])


class FailureLimiter:
    def __init__(
        self, kind: str, max_failures: int, window_seconds: float, max_clients: int = 100_000
    ) -> None:
        self.kind = kind
        self.max_failures = max_failures
        self.window = window_seconds
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, client: str, now: float) -> deque[float]:
        stamps = self._failures.get(client)
        if stamps is None:
            if len(self._failures) >= self.max_clients:
                self._failures.pop(next(iter(self._failures)))
            stamps = self._failures[client] = deque()
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        return stamps

    def limited(self, client: str) -> bool:
        """Whether this client has used up its failures for the window. A client with no
        failures is not recorded: only `fail` adds clients, so visitors opening real links
        cannot push the clients that are failing out of the table."""
        if client not in self._failures:
            return False
        return len(self._recent(client, time.monotonic())) >= self.max_failures

    def check(self, client: str) -> None:
        """Raise 429 if this client has used up its failures for the window."""
        if self.limited(client):
            now = time.monotonic()
            stamps = self._failures[client]
            retry_after = max(1, math.ceil(stamps[0] + self.window - now))
            LIMITED.labels(self.kind).inc()
            raise ApiError(
                ErrorCode.RATE_LIMITED,
                f"too many failed {self.kind} attempts from this address",
                details={"retry_after_seconds": retry_after},
                headers={"Retry-After": str(retry_after)},
            )

    def fail(self, client: str) -> None:
        now = time.monotonic()
        self._recent(client, now).append(now)


@dataclass(frozen=True, slots=True)
class Limiters:
    lookups: FailureLimiter
    access_codes: FailureLimiter
