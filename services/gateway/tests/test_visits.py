"""The visit queue: served views reach sharing in batches, and survive sharing's failures."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from gateway.visits import VisitRecorder


class Sharing:
    """Takes batches once `up`; records every attempt."""

    def __init__(self) -> None:
        self.up = True
        self.attempts: list[list[Any]] = []
        self.stored: list[Any] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def send(self, visits: list[dict[str, Any]]) -> None:
        assert all("client" not in v for v in visits)  # addresses never leave the gateway
        self.attempts.append([v["n"] for v in visits])
        await self.gate.wait()
        if not self.up:
            raise ConnectionError("sharing unreachable")
        self.stored.extend(v["n"] for v in visits)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - polling the recorder's state is the point
            await asyncio.sleep(0.001)


async def settle(recorder: VisitRecorder, sharing: Sharing, count: int) -> None:
    await until(lambda: len(sharing.stored) >= count and not recorder.pending)


async def test_visits_arriving_during_a_send_leave_together_in_order() -> None:
    sharing = Sharing()
    sharing.gate.clear()
    recorder = VisitRecorder(sharing.send, max_batch=4, linger_seconds=0)
    runner = asyncio.create_task(recorder.run())
    recorder.add({"n": 0})
    await asyncio.sleep(0.01)
    for n in range(1, 10):
        recorder.add({"n": n})
    sharing.gate.set()
    await settle(recorder, sharing, 10)
    runner.cancel()
    assert sharing.stored == list(range(10))
    assert sharing.attempts == [[0], [1, 2, 3, 4], [5, 6, 7, 8], [9]]


async def test_a_batch_lingers_for_the_visits_right_behind_the_first() -> None:
    sharing = Sharing()
    recorder = VisitRecorder(sharing.send, linger_seconds=0.05)
    runner = asyncio.create_task(recorder.run())
    recorder.add({"n": 0})
    await asyncio.sleep(0.01)
    recorder.add({"n": 1})
    await settle(recorder, sharing, 2)
    runner.cancel()
    assert sharing.attempts == [[0, 1]]


async def test_a_failed_batch_is_sent_again_unchanged_until_sharing_takes_it() -> None:
    sharing = Sharing()
    sharing.up = False
    recorder = VisitRecorder(sharing.send, max_backoff=0.01)
    runner = asyncio.create_task(recorder.run())
    for n in range(3):
        recorder.add({"n": n})
    await until(lambda: len(sharing.attempts) >= 3)
    assert recorder.pending == 3
    sharing.up = True
    await settle(recorder, sharing, 3)
    runner.cancel()
    assert sharing.stored == [0, 1, 2]
    assert all(attempt == [0, 1, 2] for attempt in sharing.attempts)


async def test_a_full_queue_drops_new_visits_instead_of_growing() -> None:
    sharing = Sharing()
    recorder = VisitRecorder(sharing.send, max_pending=2)
    for n in range(5):
        recorder.add({"n": n})
    assert recorder.pending == 2
    await recorder.drain(1)
    assert sharing.stored == [0, 1]


async def test_stopping_drains_the_queue_and_gives_up_after_its_deadline() -> None:
    sharing = Sharing()
    recorder = VisitRecorder(sharing.send)
    for n in range(3):
        recorder.add({"n": n})
    await recorder.drain(1)
    assert sharing.stored == [0, 1, 2] and recorder.pending == 0

    sharing.up = False
    recorder.add({"n": 3})
    await recorder.drain(0.2)
    assert recorder.pending == 0  # counted lost, not kept forever
    assert sharing.stored == [0, 1, 2]


async def test_the_engagement_limit_is_asked_once_per_visit_and_addresses_never_leave() -> None:
    """Issue 17: each visit's client is charged when its batch is taken, not again when the
    batch is retried; what the limit refuses is not sent; the address is not sent on."""
    sharing = Sharing()
    sharing.up = False
    asked: list[list[str | None]] = []

    async def admit(clients: list[str | None]) -> list[bool]:
        asked.append(clients)
        return [client != "over" for client in clients]

    recorder = VisitRecorder(sharing.send, admit=admit, max_backoff=0.01, linger_seconds=0)
    runner = asyncio.create_task(recorder.run())
    for n, client in enumerate(["a", "over", None]):
        recorder.add({"n": n, "client": client})
    await until(lambda: len(sharing.attempts) >= 3)
    sharing.up = True
    await settle(recorder, sharing, 2)
    runner.cancel()
    assert asked == [["a", "over", None]]
    assert sharing.stored == [0, 2]
