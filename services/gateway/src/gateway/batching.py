"""Coalescing concurrent calls to an upstream into batches.

Items that arrive while `max_in_flight` batches are already on their way wait and leave
together in the next one. Under light load every item goes out at once (no timer, no added
latency); under heavy load the batches grow, so the upstream's fixed cost per call (an HTTP
round trip, a transaction) is shared by many requests.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from prometheus_client import Histogram

Item = TypeVar("Item")
Result = TypeVar("Result")

BATCH_SIZES = Histogram(
    "encore_gateway_batch_size",
    "Items per coalesced upstream call",
    ["upstream"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)


class Coalescer(Generic[Item, Result]):
    def __init__(
        self,
        name: str,
        send: Callable[[list[Item]], Awaitable[Sequence[Result]]],
        *,
        max_batch: int = 256,
        max_in_flight: int = 1,
    ) -> None:
        self.send = send
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self._sizes = BATCH_SIZES.labels(name)
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._in_flight: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """The upstream's answer for this item; its error if the whole batch failed."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        self._dispatch()
        return await future

    def _dispatch(self) -> None:
        while self._waiting and len(self._in_flight) < self.max_in_flight:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            # a fresh context: the batch belongs to no single request (trace id, counters)
            task = asyncio.create_task(self._run(batch), context=contextvars.Context())
            self._in_flight.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._dispatch()

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        self._sizes.observe(len(batch))
        try:
            results = await self.send([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"upstream answered {len(results)} of {len(batch)} items")
        except asyncio.CancelledError:  # shutting down
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            for _, future in batch:
                if not future.done():  # a caller that went away has a cancelled future
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
