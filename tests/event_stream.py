"""A stream of synthetic engagement events for fault tests, and what it must add up to.

The stream publishes from a thread, so a test can crash things while it runs. Like the
outbox relay, it retries every record until the broker acknowledges it: a broker crash may
duplicate records (the consumer dedupes by event id) but never drops one.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from contracts.events import EventEnvelope, ShareClicked, TrackPlayed, Visitor, wrap
from servicekit.internal import INTERNAL_TOKEN_HEADER

Record = tuple[str, bytes, bytes]  # topic, key, value


@dataclass
class Workload:
    """`count` events over `links` links: every third one a view, the others plays, each by
    its own visitor so that every one of them counts. Every 50th event is sent a second time
    a little later, as an at-least-once producer does: it must still count once."""

    records: list[Record]
    expected: dict[str, dict[str, int]]

    @classmethod
    def build(cls, count: int, links: int = 40) -> Workload:
        ids = [f"mslink_{uuid.uuid4().hex[:12]}" for _ in range(links)]
        expected = {link: collections.Counter[str]() for link in ids}
        records: list[Record] = []
        for i in range(count):
            link = ids[i % links]
            visitor = Visitor(visitor_id=f"v{i}", session_id=f"s{i}", source="soak")
            if i % 3 == 0:
                click = ShareClicked(link_id=link, link_kind="track", visitor=visitor)
                records.append(_record(wrap(click, producer="test")))
                expected[link]["views"] += 1
            else:
                play = TrackPlayed(link_id=link, track_id=f"mtrack_{link}", visitor=visitor)
                records.append(_record(wrap(play, producer="test")))
                expected[link]["plays"] += 1
            if i % 50 == 49:
                records.append(records[-40])
        return cls(
            records, {k: {"views": v["views"], "plays": v["plays"]} for k, v in expected.items()}
        )

    @property
    def sent(self) -> int:
        """Distinct events (records minus the deliberate duplicates)."""
        return sum(c["views"] + c["plays"] for c in self.expected.values())

    def counted(self, analytics_url: str, internal_token: str) -> dict[str, dict[str, int]]:
        """What analytics says, for the same links and counters as `expected`."""
        response = httpx.get(
            analytics_url + "/internal/stats/links",
            params={"ids": ",".join(self.expected)},
            headers={INTERNAL_TOKEN_HEADER: internal_token},
            timeout=10,
        )
        response.raise_for_status()
        body = response.json()
        return {
            link: {"views": body[link]["views"], "plays": body[link]["plays"]}
            for link in self.expected
        }


def _record(event: EventEnvelope[Any]) -> Record:
    return event.topic, event.key.encode(), event.model_dump_json().encode()


@dataclass
class Stream:
    """Publishes `records` at about `rate` per second, each until acknowledged, from a thread
    started by `start()`."""

    bootstrap: str
    records: list[Record]
    rate: float
    chunk: int = 500
    acked: int = 0
    resent: int = 0
    error: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Stream:
        threading.Thread(target=self._run, name="event-stream", daemon=True).start()
        return self

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    def _run(self) -> None:
        try:
            asyncio.run(self._publish())
        except BaseException as exc:
            self.error = exc
        finally:
            self.finished.set()

    def wait(self, timeout: float) -> None:
        """Until every record is acknowledged; re-raises what stopped the stream."""
        if not self.finished.wait(timeout):
            raise AssertionError(f"stream not done after {timeout}s: {self.acked} acked")
        if self.error is not None:
            raise AssertionError("the stream failed") from self.error

    async def _publish(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            request_timeout_ms=3000,
            retry_backoff_ms=200,
            linger_ms=50,
        )
        await producer.start()
        started = time.monotonic()
        try:
            for at in range(0, len(self.records), self.chunk):
                unacked = self.records[at : at + self.chunk]
                while unacked:
                    unacked = await self._send(producer, unacked)
                    if unacked:
                        self.resent += len(unacked)
                        await asyncio.sleep(0.2)
                ahead = started + self.acked / self.rate - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)
        finally:
            await producer.stop()

    async def _send(self, producer: AIOKafkaProducer, records: list[Record]) -> list[Record]:
        """Sends `records`; returns those the broker did not acknowledge."""
        futures: list[asyncio.Future[object]] = []
        try:
            for topic, key, value in records:
                futures.append(await producer.send(topic, value, key=key))
        except KafkaError:
            pass  # the rest were not even handed to the producer
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        failed = [r for r, o in zip(records, outcomes, strict=False) if isinstance(o, Exception)]
        self.acked += len(futures) - len(failed)
        return failed + records[len(futures) :]
