"""Transactional outbox: events are rows written with the change, then relayed to Kafka.

A change and its event commit together or not at all; the relay publishes committed rows
and deletes them only after the broker acknowledged every one. Every replica runs a relay,
but one publishes at a time per outbox (a transaction-scoped advisory lock): the others
stand by and take over at their next poll once the active one's transaction ends, a crash
included (Postgres drops the lock with the connection). One publisher keeps each key's
events in the order they were written (docs/outbox.md). Delivery is at least once, so
consumers are idempotent (by event id or by version).

Each row keeps the W3C `traceparent` of the transaction that added it and the relay sends
it as the record's `traceparent` header, so the consumer continues that trace; for a
sampled trace the relay adds a producer span in between (docs/tracing.md).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Gauge
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    MetaData,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from contracts.events import EventEnvelope
from servicekit.tracing import (
    TRACEPARENT,
    context_of,
    current_traceparent,
    is_sampled,
    traceparent_of,
    tracer,
)

log = logging.getLogger(__name__)

RELAYED = Counter("encore_outbox_relayed_total", "Outbox events published to Kafka", ["topic"])
RELAY_FAILURES = Counter("encore_outbox_relay_failures_total", "Failed outbox relay rounds")
BACKLOG = Gauge("encore_outbox_backlog", "Outbox rows waiting to be published")

JSON_CONTENT_TYPE = ("content-type", b"application/json")
KEY_HASH_CACHE_SIZE = 100_000

OutboxRow = Row[int, str, str, str, str | None]  # id, topic, key, value, traceparent


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("topic", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("value", Text, nullable=False),
        Column("traceparent", Text),  # W3C, of the transaction that added the event
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_outbox_created_at", "created_at"),
    )


class Outbox:
    """Writes events into the outbox within the caller's transaction and nudges the relay.

    The nudge comes by itself: `add` hooks the session's commit, so the relay publishes as
    soon as the change is durable and nobody has to remember to tell it (a rolled-back
    change wakes nothing; the relay would find no rows anyway).
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self._wakeup = asyncio.Event()
        self._listening_key = f"outbox-notify-{id(self)}"
        columns = ("event_id", "topic", "key", "value", "traceparent")
        # an event id already waiting is skipped: a producer may retry a batch whose commit
        # it never heard of (consumers skip one already applied)
        self._insert = (
            pg_insert(table)
            .from_select(
                columns,
                select(
                    func.unnest(bindparam("event_ids", type_=ARRAY(UUID(as_uuid=True)))),
                    func.unnest(bindparam("topics", type_=ARRAY(Text))),
                    func.unnest(bindparam("keys", type_=ARRAY(Text))),
                    func.unnest(bindparam("values", type_=ARRAY(Text))),
                    func.unnest(bindparam("traceparents", type_=ARRAY(Text))),
                ),
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
        )

    async def add(
        self,
        session: AsyncSession,
        *envelopes: EventEnvelope[Any],
        traceparents: Sequence[str | None] | None = None,
    ) -> None:
        """`traceparents`: the trace each event continues, one per envelope, when it is not
        the current one (events for visits the gateway queued and sent in a batch)."""
        if not envelopes:
            return
        if traceparents is None:
            traceparents = [current_traceparent()] * len(envelopes)
        elif len(traceparents) != len(envelopes):
            raise ValueError("one traceparent per envelope")
        self._notify_after_commit(session)
        # one statement whatever the count: arrays zipped by unnest, so the SQL text (and
        # the statement Postgres has prepared for it) is the same for 1 event or 500
        await session.execute(
            self._insert,
            {
                "event_ids": [env.event_id for env in envelopes],
                "topics": [env.topic for env in envelopes],
                "keys": [env.key for env in envelopes],
                "values": [env.model_dump_json() for env in envelopes],
                "traceparents": list(traceparents),
            },
        )

    def _notify_after_commit(self, session: AsyncSession) -> None:
        # once per session: a session that adds in several statements or transactions
        # keeps one listener, which wakes the relay after each of its commits
        if self._listening_key in session.info:
            return
        session.info[self._listening_key] = True
        event.listen(session.sync_session, "after_commit", self._committed)

    def _committed(self, _session: Session) -> None:
        self.notify()

    def notify(self) -> None:
        """Wake the relay now instead of at its next poll (commits through `add` do this)."""
        self._wakeup.set()

    async def wait(self, seconds: float) -> None:
        """Sleep until notified or `seconds` pass, whichever is first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), seconds)
        self._wakeup.clear()


class OutboxRelay:
    """Publishes an outbox's rows through a Kafka producer of its own.

    `producer_factory` is called by `start` (aiokafka wants a running event loop), so the
    relay can be built where the app is composed and started with the service."""

    def __init__(
        self,
        outbox: Outbox,
        sessions: async_sessionmaker[AsyncSession],
        producer_factory: Callable[[], AIOKafkaProducer],
        *,
        batch_size: int = 500,
        poll_interval: float = 0.25,
        max_backoff: float = 5.0,
        coalesce_seconds: float = 0.005,
    ) -> None:
        self.outbox = outbox
        self.sessions = sessions
        self.producer_factory = producer_factory
        self._producer: AIOKafkaProducer | None = None
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.coalesce_seconds = coalesce_seconds
        table = outbox.table
        # the advisory lock that makes one relay per outbox the publisher
        self.lock_key = int.from_bytes(
            hashlib.sha256(f"outbox:{table.schema}.{table.name}".encode()).digest()[:8],
            "big",
            signed=True,
        )
        # key -> positive murmur2 of its bytes; the partition count is applied per round
        self._key_hashes: dict[str, int] = {}
        # a failed round is retried with backoff (0.1 s doubling up to max_backoff) for as
        # long as it takes; a round that went through starts the next one from 0.1 s again
        self._publish_retrying = AsyncRetrying(
            wait=wait_exponential(multiplier=0.1, max=max_backoff),
            retry=retry_if_exception_type(Exception),
            before_sleep=self._round_failed,
            reraise=True,
        ).wraps(self.publish_batch)

    async def start(self) -> None:
        """Connect the relay's own producer (call in the service's start-up)."""
        if self._producer is None:
            producer = self.producer_factory()
            await producer.start()
            self._producer = producer

    async def stop(self) -> None:
        """Flush and close the producer (call after the run task was cancelled)."""
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("Kafka producer is not started: call OutboxRelay.start() first")
        return self._producer

    async def publish_batch(self) -> int:
        """Publish up to one batch; returns how many rows went out."""
        table = self.outbox.table
        async with self.sessions() as session, session.begin():
            # one publisher per outbox at a time: with parallel relays, two replicas could
            # publish one key's events out of order; without the lock no row comes back.
            # FOR UPDATE (no SKIP LOCKED: nobody else locks these rows) re-checks each row
            # at read time, so rows the previous holder deleted just before this statement
            # got the lock are not published twice.
            locked = select(func.pg_try_advisory_xact_lock(self.lock_key).label("ok")).subquery()
            rows = (
                await session.execute(
                    select(
                        table.c.id, table.c.topic, table.c.key, table.c.value, table.c.traceparent
                    )
                    .select_from(table.join(locked, locked.c.ok))
                    .order_by(table.c.id)
                    .limit(self.batch_size)
                    .with_for_update(of=table)
                )
            ).all()
            if not rows:
                return 0
            # the rows go only once the broker acknowledged every one
            await asyncio.gather(*await self._send(rows))
            ids = bindparam("ids", [r.id for r in rows], type_=ARRAY(BigInteger))
            await session.execute(delete(table).where(table.c.id == any_(ids)))
        for topic, count in collections.Counter(row.topic for row in rows).items():
            RELAYED.labels(topic).inc(count)
        return len(rows)

    async def _send(self, rows: Sequence[OutboxRow]) -> list[asyncio.Future[Any]]:
        """Hand `rows` to aiokafka as record batches we build; returns one ack per batch.

        Straight to aiokafka, as FastStream's publish path cost several times the send
        itself; and batches rather than `producer.send` per row, whose partitioner (pure
        Python murmur2), accumulator and future per message were most of the relay's CPU.
        Each row goes to the partition a keyed `send` picks (murmur2 of the key, as
        aiokafka's DefaultPartitioner), batches of one partition go in row order: one key's
        events land where they always did, in the order they were written.
        """
        producer = self.producer()
        counts = {t: len(await producer.partitions_for(t)) for t in {row.topic for row in rows}}
        groups: dict[tuple[str, int], list[OutboxRow]] = collections.defaultdict(list)
        for row in rows:
            if (key_hash := self._key_hashes.get(row.key)) is None:
                if len(self._key_hashes) >= KEY_HASH_CACHE_SIZE:
                    self._key_hashes.clear()
                key_hash = self._key_hashes[row.key] = murmur2(row.key.encode()) & 0x7FFFFFFF
            # partitions are numbered 0..count-1, so this is DefaultPartitioner's pick
            partition = key_hash % counts[row.topic]
            groups[row.topic, partition].append(row)
        acks = []
        for (topic, partition), group in groups.items():
            batch = producer.create_batch()
            for row in group:
                headers = [JSON_CONTENT_TYPE]
                if row.traceparent:
                    headers.append((TRACEPARENT, self._traceparent(row, topic).encode()))
                key, value = row.key.encode(), row.value.encode()
                # None: the batch is full; a fresh one always takes its first record
                while batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    acks.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = producer.create_batch()
            acks.append(await producer.send_batch(batch, topic, partition=partition))
        return acks

    @staticmethod
    def _traceparent(row: OutboxRow, topic: str) -> str:
        """What the record carries: the row's own context, or for a sampled trace that of a
        producer span (a child of the transaction's span) recorded as the relay sends it."""
        if not is_sampled(row.traceparent):
            return row.traceparent or ""
        span = tracer.start_span(
            f"{topic} publish",
            context_of(row.traceparent),
            SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": topic,
                "messaging.kafka.message.key": row.key,
            },
        )
        span.end()
        return traceparent_of(span) or row.traceparent or ""

    async def backlog(self) -> int:
        async with self.sessions() as session:
            count = await session.scalar(select(func.count()).select_from(self.outbox.table))
        return int(count or 0)

    @staticmethod
    def _round_failed(state: RetryCallState) -> None:
        RELAY_FAILURES.inc()
        wait = state.next_action.sleep if state.next_action else 0.0
        error = state.outcome.exception() if state.outcome else None
        log.warning("outbox relay round failed, retrying in %.1fs: %r", wait, error)

    async def run(self, backlog_every: float = 5.0) -> None:
        last_backlog = 0.0
        while True:
            if time.monotonic() - last_backlog > backlog_every:
                last_backlog = time.monotonic()
                with contextlib.suppress(Exception):  # a metric never stops the relay
                    BACKLOG.set(await self.backlog())
            published = await self._publish_retrying()
            if published < self.batch_size:
                await self.outbox.wait(self.poll_interval)
                # let a burst of requests land in one publish round instead of one each
                await asyncio.sleep(self.coalesce_seconds)
