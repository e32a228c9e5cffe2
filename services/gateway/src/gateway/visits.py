"""Views of track links (and listening beacons, listens.py), handed to sharing in batches
after the answer is sent.

The SPEC makes engagement recording best-effort: the page answers even when the event
cannot be stored. So an open does not wait for sharing's transaction. Its visit is queued
here and sent with the others that arrived meanwhile (one call in flight at a time; as
nobody waits on it, a batch lingers a few milliseconds to grow). A failed batch is
retried, with backoff, until sharing takes it; each visit keeps the event id it got when
served, so a batch sent twice counts once. What can still be lost, and is counted: visits queued beyond `max_pending` while
sharing is unreachable, and the queue of a gateway killed without a chance to drain it
(a normal stop drains it, see `drain`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from prometheus_client import Counter, Gauge
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from gateway.batching import BATCH_SIZES
from servicekit.upstream import InternalClient, UpstreamError

log = logging.getLogger(__name__)

Visit = dict[str, Any]  # a contracts.dto.TrackLinkVisit, as the JSON it is sent as
CLIENT = "client"  # a queued visit's client address (None: signed in), never sent on
Admit = Callable[[list[str | None]], Awaitable[list[bool]]]
JSON = {"content-type": "application/json"}
ENCODER = msgspec.json.Encoder(enc_hook=lambda obj: obj.model_dump())  # a queued Device

PENDING = Gauge(
    "encore_gateway_visits_pending",
    "Engagement queued for sharing, not yet stored (track-link visits, listen beacons)",
    ["queue"],
)
LOST = Counter(
    "encore_gateway_visits_lost_total",
    "Queued engagement dropped (track-link visits, listen beacons): queue full, or not drained",
)
SEND_FAILURES = Counter(
    "encore_gateway_visit_batch_failures_total", "Visit batches sharing did not take (retried)"
)


class VisitRecorder:
    def __init__(
        self,
        send: Callable[[list[Visit]], Awaitable[None]],
        *,
        max_batch: int = 1000,
        max_pending: int = 200_000,
        max_backoff: float = 5.0,
        linger_seconds: float = 0.01,
        queue: str = "track_link_visits",
        admit: Admit | None = None,
    ) -> None:
        self.send = send
        self.admit = admit  # the per-client engagement limit (ratelimit.Limiters.admit)
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.max_backoff = max_backoff
        self.linger = linger_seconds
        self._queue: deque[Visit] = deque()
        self._batch: list[Visit] = []  # taken from the queue, not yet stored
        self._wakeup = asyncio.Event()
        self.queue = queue
        self._sizes = BATCH_SIZES.labels(f"sharing.{queue}")
        PENDING.labels(queue).set_function(
            lambda: self.pending
        )  # read when scraped: nothing per visit
        # a batch sharing did not take is sent again, 0.1 s later doubling up to max_backoff,
        # until it goes through; the next batch starts from 0.1 s again
        self._send_batch_retrying = AsyncRetrying(
            wait=wait_exponential(multiplier=0.1, max=max_backoff),
            retry=retry_if_exception_type(Exception),
            before_sleep=self._batch_failed,
            reraise=True,
        ).wraps(self._send_batch)

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._batch)

    def add(self, visit: Visit) -> None:
        if len(self._queue) >= self.max_pending:
            LOST.inc()
            return
        self._queue.append(visit)
        self._wakeup.set()

    async def run(self) -> None:
        """Send batches for as long as the gateway runs."""
        while True:
            await self._wakeup.wait()
            # let the visits of the next few milliseconds join: sharing's cost is mostly
            # per call (a round trip, a transaction, a relay round), and nobody waits on it
            await asyncio.sleep(self.linger)
            self._wakeup.clear()
            await self._send_all()

    async def drain(self, seconds: float) -> None:
        """Send what is queued, trying for at most `seconds`; count the rest lost."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._send_all(), seconds)
        if self.pending:
            log.error("stopping with %d %s not stored", self.pending, self.queue)
            LOST.inc(self.pending)
            self._queue.clear()
            self._batch = []

    async def _send_all(self) -> None:
        while self._batch or self._queue:
            if not self._batch:
                take = min(self.max_batch, len(self._queue))
                self._batch = await self._admitted([self._queue.popleft() for _ in range(take)])
                if not self._batch:
                    continue
            await self._send_batch_retrying()
            self._sizes.observe(len(self._batch))
            self._batch = []

    async def _admitted(self, taken: list[Visit]) -> list[Visit]:
        """The visits within their clients' engagement limits, once per visit (a batch sent
        again is not charged again), without the client addresses."""
        clients = [visit.pop(CLIENT, None) for visit in taken]
        if self.admit is None:
            return taken
        allowed = await self.admit(clients)
        return [visit for visit, ok in zip(taken, allowed, strict=True) if ok]

    async def _send_batch(self) -> None:
        await self.send(self._batch)

    def _batch_failed(self, state: RetryCallState) -> None:
        SEND_FAILURES.inc()
        log.warning(
            "%d %s not stored yet, retrying in %.1fs: %r",
            len(self._batch),
            self.queue,
            state.next_action.sleep if state.next_action else 0.0,
            state.outcome.exception() if state.outcome else None,
        )


async def post_batch(
    sharing: InternalClient, path: str, field: str, batch: list[Visit], what: str
) -> None:
    """Send a batch to sharing as `{field: batch}`. A 5xx is raised, so the recorder sends
    the batch again; a 4xx is logged and the batch counted lost (refused as malformed, it
    would be refused again, forever)."""
    try:
        await sharing.request("POST", path, content=ENCODER.encode({field: batch}), headers=JSON)
    except UpstreamError as exc:
        if exc.status >= 500:
            raise  # sharing or its database is in trouble: the batch is sent again
        log.error("sharing refused %d %s: %s", len(batch), what, exc)
        LOST.inc(len(batch))
