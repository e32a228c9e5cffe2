"""The coalescer: concurrent calls share upstream batches, and each caller gets its own answer."""

from __future__ import annotations

import asyncio

import pytest

from gateway.batching import Coalescer


class Upstream:
    """Answers each item with its square after `gate` opens; records every batch."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = asyncio.Event()
        self.fail_with: Exception | None = None

    async def send(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return [item * item for item in items]


async def test_a_lone_call_goes_out_at_once() -> None:
    upstream = Upstream()
    upstream.gate.set()
    coalescer = Coalescer("test", upstream.send)
    assert await coalescer.submit(3) == 9
    assert upstream.batches == [[3]]


async def test_calls_arriving_during_a_batch_leave_together_and_get_their_own_answers() -> None:
    upstream = Upstream()
    coalescer = Coalescer("test", upstream.send, max_in_flight=1)
    first = asyncio.create_task(coalescer.submit(1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(coalescer.submit(n)) for n in range(2, 12)]
    await asyncio.sleep(0)
    assert upstream.batches == [[1]]  # the rest wait for the batch in flight
    upstream.gate.set()
    assert await first == 1
    assert await asyncio.gather(*rest) == [n * n for n in range(2, 12)]
    assert upstream.batches == [[1], list(range(2, 12))]


async def test_batches_are_capped() -> None:
    upstream = Upstream()
    coalescer = Coalescer("test", upstream.send, max_batch=4, max_in_flight=1)
    calls = [asyncio.create_task(coalescer.submit(n)) for n in range(10)]
    await asyncio.sleep(0)
    upstream.gate.set()
    assert await asyncio.gather(*calls) == [n * n for n in range(10)]
    # the first call leaves alone at once; the nine behind it in batches of at most four
    assert [len(batch) for batch in upstream.batches] == [1, 4, 4, 1]


async def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_still_runs() -> None:
    upstream = Upstream()
    upstream.fail_with = ConnectionError("upstream down")
    upstream.gate.set()
    coalescer = Coalescer("test", upstream.send)
    calls = [asyncio.create_task(coalescer.submit(n)) for n in range(3)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(result, ConnectionError) for result in results)
    upstream.fail_with = None
    assert await coalescer.submit(5) == 25


async def test_a_caller_that_goes_away_does_not_disturb_the_others() -> None:
    upstream = Upstream()
    coalescer = Coalescer("test", upstream.send, max_in_flight=1)
    leaving = asyncio.create_task(coalescer.submit(2))
    staying = asyncio.create_task(coalescer.submit(3))
    await asyncio.sleep(0)
    leaving.cancel()
    upstream.gate.set()
    assert await staying == 9
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_an_upstream_that_answers_the_wrong_number_of_items_is_an_error() -> None:
    async def short(items: list[int]) -> list[int]:
        return items[:-1]

    coalescer = Coalescer("test", short, max_in_flight=1)
    calls = [asyncio.create_task(coalescer.submit(n)) for n in range(3)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert all(isinstance(result, RuntimeError) for result in results)
