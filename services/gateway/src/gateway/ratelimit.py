"""Limits on guessing: link lookups per client, access codes per client and per pack link;
and on anonymous engagement per client (`Limiters.admit`), so one script cannot inflate a
link's numbers.

The budgets are moving windows kept in Redis through the `limits` library, so every
gateway replica draws on the same ones (a limit no longer multiplies with replicas).

Hit, then decide: an attempt is charged to its budgets *before* it goes to sharing (one
atomic script per budget in Redis), so a burst of parallel guesses cannot pass a check
before its failures are counted: no more attempts than the budget ever reach sharing.
Charging every attempt would also charge visitors of real links (a pack listener sends its
access code with every play), so an attempt this replica has seen succeed within the
window (the same link path; the same access code on the same link) is not charged: its
budgets are only read, and refuse it when spent. A spent budget therefore answers 429 to a
right code as to a wrong one: a refusal never says whether a guess was right. The same
attempt already in flight on this replica is waited for rather than charged again.

The anonymous open of a cached track link (cached_opens.py) asks no one: it reads
`Limiters.limited`, this replica's memory of the clients whose lookup budget it saw spent.

If Redis cannot be reached, each replica keeps the same budgets in its own memory until
Redis answers again (`encore_gateway_rate_limit_store_errors_total` counts those checks):
limits then hold per replica, as they did before Redis. That is deliberate: failing closed
would turn a Redis blip into every gated pack refusing its listeners, failing open would
lift the limits for as long as Redis is away.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import time
from collections import Counter as Counter_
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import NoReturn, TypeVar

import redis.asyncio
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from prometheus_client import Counter

from contracts.errors import ErrorCode
from servicekit.errors import ApiError

log = logging.getLogger(__name__)
T = TypeVar("T")

LIMITED = Counter("encore_gateway_rate_limited_total", "Requests refused by a rate limit", ["kind"])
STORE_ERRORS = Counter(
    "encore_gateway_rate_limit_store_errors_total",
    "Rate-limit checks answered from this replica's memory because Redis failed",
)
ENGAGEMENT_DROPPED = Counter(
    "encore_gateway_engagement_dropped_total",
    "Anonymous engagement (views, plays, downloads, listens) over its client's limit: "
    "answered as usual, not recorded",
)
KEY_PREFIX = "encore-gateway"
LOCAL_AFTER_ERROR_SECONDS = 2.0  # after a Redis error, stay on memory this long


@dataclass(frozen=True, slots=True)
class Budget:
    """One limit: `amount` attempts per window, for each client (or each link)."""

    kind: str  # the `kind` label of LIMITED
    item: RateLimitItem
    refusal: str  # the error message

    @classmethod
    def of(cls, kind: str, amount: int, window_seconds: float, refusal: str) -> Budget:
        window = max(1, math.ceil(window_seconds))
        return cls(kind, RateLimitItemPerSecond(amount, window, namespace=kind), refusal)


class Counters:
    """Moving windows in Redis (or, without Redis or while it fails, in this process)."""

    def __init__(self, redis_url: str | None, timeout_seconds: float = 1.0) -> None:
        self.local = MovingWindowRateLimiter(MemoryStorage())
        self.pool: redis.asyncio.ConnectionPool | None = None
        self.shared: MovingWindowRateLimiter | None = None
        self._local_until = 0.0
        if redis_url:
            self.pool = redis.asyncio.ConnectionPool.from_url(
                redis_url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
            )
            storage = RedisStorage(
                f"async+{redis_url}",
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=KEY_PREFIX,
                connection_pool=self.pool,  # type: ignore[arg-type]  # passed on to redis-py
            )
            self.shared = MovingWindowRateLimiter(storage)

    async def _run(self, op: Callable[[MovingWindowRateLimiter], Awaitable[T]]) -> T:
        """`op` on Redis; on this process's memory without Redis, or for a moment after
        Redis failed (so an outage does not add a timeout to every request)."""
        if self.shared is None:
            return await op(self.local)
        if time.monotonic() >= self._local_until:
            try:
                return await op(self.shared)
            except (StorageError, redis.RedisError, OSError) as exc:
                log.warning("Redis failed, rate limits held in this replica for now: %r", exc)
                self._local_until = time.monotonic() + LOCAL_AFTER_ERROR_SECONDS
        STORE_ERRORS.inc()
        return await op(self.local)

    async def hit(self, budget: Budget, identifier: str) -> bool:
        """Charge one attempt if the budget has one left (atomically); False if spent."""
        return await self._run(lambda limiter: limiter.hit(budget.item, identifier))

    async def take(self, budget: Budget, identifier: str, wanted: int) -> int:
        """Charge up to `wanted` attempts, as many as the budget has left; how many it took.
        (Two steps when it has fewer left: another replica may take some in between, so a
        burst can pass the budget by a few. Engagement is not a secret to guard.)"""
        if await self._run(lambda limiter: limiter.hit(budget.item, identifier, cost=wanted)):
            return wanted
        stats = await self._run(lambda limiter: limiter.get_window_stats(budget.item, identifier))
        left = min(wanted, max(0, stats.remaining))
        if left and await self._run(
            lambda limiter: limiter.hit(budget.item, identifier, cost=left)
        ):
            return left
        return 0

    async def test(self, budget: Budget, identifier: str) -> bool:
        """Whether the budget has an attempt left, charging nothing."""
        return await self._run(lambda limiter: limiter.test(budget.item, identifier))

    async def reset_at(self, budget: Budget, identifier: str) -> float:
        """When (epoch seconds) the budget's oldest charge leaves the window."""
        stats = await self._run(lambda limiter: limiter.get_window_stats(budget.item, identifier))
        return stats.reset_time if stats.remaining <= 0 else 0.0

    async def aclose(self) -> None:
        if self.pool is not None:
            await self.pool.aclose()


class Expiring:
    """A bounded memory of keys, each until a given time (oldest forgotten first)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._until: OrderedDict[Hashable, float] = OrderedDict()

    def __contains__(self, key: Hashable) -> bool:
        return self.seconds_left(key) > 0

    def seconds_left(self, key: Hashable) -> float:
        until = self._until.get(key)
        if until is None:
            return 0.0
        left = until - time.monotonic()
        if left <= 0:
            del self._until[key]
        return max(0.0, left)

    def add(self, key: Hashable, seconds: float) -> None:
        self._until[key] = time.monotonic() + seconds
        self._until.move_to_end(key)
        while len(self._until) > self.max_entries:
            self._until.popitem(last=False)

    def discard(self, key: Hashable) -> None:
        self._until.pop(key, None)


def _digest(*parts: str) -> bytes:
    """A short key for what may be long (and, for access codes, secret)."""
    return hashlib.sha256("\0".join(parts).encode()).digest()


class Limiters:
    """The budgets of the public surface and what this replica remembers about them."""

    def __init__(
        self,
        counters: Counters,
        *,
        lookups: Budget,
        access_codes: Budget,
        link_access_codes: Budget,
        engagement: Budget | None = None,
        max_remembered: int = 100_000,
    ) -> None:
        self.counters = counters
        self.engagement = engagement
        self.lookups = lookups
        self.access_codes = access_codes
        self.link_access_codes = link_access_codes
        self.remember_seconds = float(lookups.item.get_expiry())
        self.spent = Expiring(max_remembered)  # clients seen with no lookups left
        self.succeeded = Expiring(max_remembered)  # lookups and access codes seen to succeed
        self.pending: dict[bytes, asyncio.Future[None]] = {}  # attempts in flight here

    async def admit(self, clients: Sequence[str | None]) -> list[bool]:
        """Whether each engagement may be recorded: anonymous ones (a client address; None
        is a signed-in caller, not limited) draw on their client's engagement budget, in
        order. What is refused is counted in ENGAGEMENT_DROPPED; the caller still answers
        as usual (SPEC §9: one script cannot inflate a link, and no page breaks)."""
        if self.engagement is None:
            return [True] * len(clients)
        wanted = Counter_(client for client in clients if client is not None)
        granted = dict(
            zip(
                wanted,
                await asyncio.gather(
                    *(self.counters.take(self.engagement, c, n) for c, n in wanted.items())
                ),
                strict=True,
            )
        )
        admitted = []
        for client in clients:
            if client is None:
                admitted.append(True)
            elif granted[client] > 0:
                granted[client] -= 1
                admitted.append(True)
            else:
                admitted.append(False)
        if dropped := admitted.count(False):
            ENGAGEMENT_DROPPED.inc(dropped)
        return admitted

    def limited(self, client: str) -> bool:
        """Whether this replica saw the client's lookup budget spent (no I/O: hot path)."""
        return client in self.spent

    def check_spent(self, client: str) -> None:
        """429 if this replica saw the client's lookup budget spent (no I/O)."""
        if left := self.spent.seconds_left(client):
            self._raise(self.lookups, math.ceil(left))

    @contextlib.asynccontextmanager
    async def attempt(
        self, client: str, lookup: str, link: str | None = None, code: str | None = None
    ) -> AsyncIterator[Attempt]:
        """Charge an attempt before it is made; 429 RATE_LIMITED if a budget is spent.
        `lookup` names what is looked up (a path); `link` and `code` an access code tried
        on a pack link. The same attempt already in flight on this replica is waited for,
        not charged again, if it succeeds: one client opening a new link many times at
        once is one lookup, and repeating a guess tells nothing new."""
        attempt = Attempt(self, client, _digest("lookup", lookup), None)
        try:
            checks = [(self.lookups, client, await self._known(attempt, attempt.lookup_key))]
            if link is not None and code is not None:
                attempt.code_key = _digest("code", link, code)
                known = await self._known(attempt, attempt.code_key)
                checks += [
                    (self.access_codes, client, known),
                    (self.link_access_codes, link, known),
                ]
            passed = await asyncio.gather(
                *(
                    self.counters.test(budget, key) if known else self.counters.hit(budget, key)
                    for budget, key, known in checks
                )
            )
            for (budget, key, _), ok in zip(checks, passed, strict=True):
                if not ok:
                    await self._refuse(budget, key, client)
            yield attempt
        finally:
            for owned in attempt.owned:
                self.pending.pop(owned).set_result(None)

    async def _known(self, attempt: Attempt, key: bytes) -> bool:
        """Seen to succeed (waiting for the same attempt if one is in flight); if not,
        the caller's attempt becomes the one in flight."""
        if pending := self.pending.get(key):
            await asyncio.shield(pending)
        if key in self.succeeded:
            return True
        if key not in self.pending:
            self.pending[key] = asyncio.get_running_loop().create_future()
            attempt.owned.append(key)
        return False

    async def _refuse(self, budget: Budget, key: str, client: str) -> NoReturn:
        reset_at = await self.counters.reset_at(budget, key)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        if budget is self.lookups:
            self.spent.add(client, retry_after)
        self._raise(budget, retry_after)

    @staticmethod
    def _raise(budget: Budget, retry_after: int) -> NoReturn:
        LIMITED.labels(budget.kind).inc()
        raise ApiError(
            ErrorCode.RATE_LIMITED,
            budget.refusal,
            details={"retry_after_seconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


@dataclass(slots=True)
class Attempt:
    """One admitted attempt; the caller reports how it went."""

    limiters: Limiters
    client: str
    lookup_key: bytes
    code_key: bytes | None
    owned: list[bytes] = field(default_factory=list)  # in flight: others wait for these

    def found(self) -> None:
        """What was looked up exists (whatever else went wrong): not charged again."""
        self.limiters.succeeded.add(self.lookup_key, self.limiters.remember_seconds)

    def succeeded(self) -> None:
        """Answered: the lookup, and the access code if one was tried, are not charged again."""
        self.found()
        if self.code_key is not None:
            self.limiters.succeeded.add(self.code_key, self.limiters.remember_seconds)

    async def lookup_failed(self) -> None:
        """Nothing found (already charged): forget it, and remember a client whose lookup
        budget is now spent, so the cached-link layer refuses it too."""
        limiters = self.limiters
        limiters.succeeded.discard(self.lookup_key)
        reset_at = await limiters.counters.reset_at(limiters.lookups, self.client)
        if reset_at:
            limiters.spent.add(self.client, max(1.0, reset_at - time.time()))

    def code_refused(self) -> None:
        """A wrong access code (already charged): not remembered as accepted."""
        self.found()
        if self.code_key is not None:
            self.limiters.succeeded.discard(self.code_key)
