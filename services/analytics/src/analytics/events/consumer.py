"""The analytics consumer: engagement and link lifecycle, in batches, exactly once in effect.

A pipeline of depth one, on aiokafka directly: while batch N's transaction runs in
Postgres, the loop fetches and decodes batch N+1 in this process (the two share the
machine's cores instead of taking turns). Rules that keep it exactly once in effect:

- batch N's offsets are committed only after its transaction commits, and batch N+1's
  transaction starts only after that, so committed offsets never pass an unapplied record;
- if a transaction fails (Postgres down), every assigned partition is rewound to its
  committed offset and the batch decoded meanwhile is dropped: both come again;
- on a rebalance, the batch in flight finishes and commits before the partitions are
  given up, and a batch decoded for the old assignment is dropped (the new owner reads it
  from the committed offset);
- whatever slips through (a crash between the transaction and the offset commit, a
  rebalance timing out) is redelivery, which the facts' key makes harmless (db/apply.py).

A message that does not parse goes to its dead-letter topic and the rest goes on; an event
Postgres refuses (a data exception) is isolated and dead-lettered the same way.

A record whose `traceparent` header says its trace is sampled gets a consumer span in that
trace, covering the transaction that applies its batch; unsampled records cost a header
look-up (docs/tracing.md).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from faststream.kafka import KafkaBroker
from opentelemetry.trace import Span, SpanKind, StatusCode
from prometheus_client import Counter, Gauge, Histogram
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics.db.apply import apply_batch
from analytics.domain.events import Event, decode
from analytics.settings import AnalyticsSettings
from contracts import topics
from contracts.events import UnknownEventType
from servicekit.dead_letters import dead_letter_record
from servicekit.kafka import consumer_options
from servicekit.tracing import TRACEPARENT, context_of, is_sampled, tracer

log = logging.getLogger(__name__)

CONSUMED = Counter("encore_analytics_events_consumed_total", "Events read from Kafka", ["topic"])
APPLIED = Counter("encore_analytics_events_applied_total", "New events applied to aggregates")
BATCH_SECONDS = Histogram("encore_analytics_batch_seconds", "Time to apply one batch")
LAG = Gauge(
    "encore_analytics_consumer_lag",
    "Records behind the partition's high watermark (from fetch responses)",
    ["topic", "partition"],
)

CONSUMED_TOPICS = (*topics.ENGAGEMENT_TOPICS, topics.SHARE_LIFECYCLE)
DECODE_SLICE = 256  # records decoded between yields, so the batch in flight keeps moving
RETRY_SECONDS = 0.5

Records = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


async def report_lag(consumer: AIOKafkaConsumer) -> None:
    """Lag from the high watermark the last fetch reported, not from `end_offsets`
    (which the dev broker reports short)."""
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        position = await consumer.position(tp)
        LAG.labels(tp.topic, str(tp.partition)).set(max(highwater - position, 0))


def _is_bad_data(exc: BaseException) -> bool:
    """Postgres SQLSTATE class 22 (data exception): the input, not the database, is wrong."""
    while exc is not None:
        if str(getattr(exc, "sqlstate", "") or "").startswith("22"):
            return True
        exc = exc.__cause__ or getattr(exc, "orig", None)  # type: ignore[assignment]
    return False


class Ingest:
    """Consumes `CONSUMED_TOPICS` and applies them batch by batch (see the module doc)."""

    def __init__(
        self,
        broker: KafkaBroker,
        settings: AnalyticsSettings,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        self.broker, self.settings, self.sessions = broker, settings, sessions
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=settings.consumer_group,
            client_id="analytics",
            enable_auto_commit=False,
            **consumer_options(settings),
        )
        self.generation = 0  # bumped whenever decoded-but-unapplied records must be dropped
        self.in_flight: asyncio.Task[None] | None = None
        self.stopping = False
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.consumer.subscribe(list(CONSUMED_TOPICS), listener=_Rebalance(self))
        await self.consumer.start()
        self.task = asyncio.create_task(self.run(), name="analytics-ingest")

    async def stop(self) -> None:
        """Finish the batch in flight (and commit it), then leave the group."""
        self.stopping = True
        if self.task is not None:
            await self.task
        await self.consumer.stop()

    async def run(self) -> None:
        while not self.stopping:
            try:
                await self.step()
            except Exception:
                log.exception("consuming failed; rewinding to the committed offsets")
                await self.settle()
                await self.rewind()
                await asyncio.sleep(RETRY_SECONDS)
        await self.settle()

    async def step(self) -> None:
        """Fetch and decode the next batch (while the previous one commits), then start it."""
        generation = self.generation
        records = await self.consumer.getmany(
            timeout_ms=self.settings.consumer_batch_timeout_ms,
            max_records=self.settings.consumer_batch_size,
        )
        if not records:
            return
        events, origin = await self.decode(records)
        await self.settle()
        if generation != self.generation:
            # rewound or rebalanced meanwhile: drop these, and seek back again, since this
            # fetch may have been served after the rewind and moved the position past them
            await self.rewind()
            return
        offsets = {tp: batch[-1].offset + 1 for tp, batch in records.items()}
        self.in_flight = asyncio.create_task(self.apply(events, origin, offsets))

    async def settle(self, patience: float | None = None) -> None:
        """Wait for the batch in flight to commit (it never raises), or `patience` seconds."""
        if self.in_flight is not None:
            await asyncio.wait({self.in_flight}, timeout=patience)

    async def decode(self, records: Records) -> tuple[list[Event], dict[Any, Any]]:
        events: list[Event] = []
        origin: dict[Any, ConsumerRecord[bytes, bytes]] = {}
        per_topic: collections.Counter[str] = collections.Counter()
        for tp, batch in records.items():
            per_topic[tp.topic] += len(batch)
            for start in range(0, len(batch), DECODE_SLICE):
                await asyncio.sleep(0)
                for record in batch[start : start + DECODE_SLICE]:
                    try:
                        event = decode(record.value or b"")
                    except (ValidationError, UnknownEventType, ValueError) as exc:
                        await self.dead_letter(record, exc)
                        continue
                    events.append(event)
                    origin[event.event_id] = record
        for topic, count in per_topic.items():  # one metric update per topic, not per record
            CONSUMED.labels(topic).inc(count)
        return events, origin

    async def apply(
        self,
        events: list[Event],
        origin: dict[Any, ConsumerRecord[bytes, bytes]],
        offsets: dict[TopicPartition, int],
    ) -> None:
        spans = consumer_spans(origin.values())
        try:
            applied = await self.transact(events, origin) if events else 0
            await self.consumer.commit(offsets)
        except Exception:
            log.exception("applying %d events failed; they will be redelivered", len(events))
            for span in spans:
                span.set_status(StatusCode.ERROR, "redelivered")
                span.end()
            await asyncio.sleep(RETRY_SECONDS)  # do not spin against a database that is down
            await self.rewind()
            return
        for span in spans:
            span.end()
        APPLIED.inc(applied)
        with contextlib.suppress(Exception):
            await report_lag(self.consumer)

    async def transact(
        self, events: list[Event], origin: dict[Any, ConsumerRecord[bytes, bytes]]
    ) -> int:
        window = self.settings.play_dedupe_window_seconds
        try:
            with BATCH_SECONDS.time():
                async with self.sessions() as session, session.begin():
                    return await apply_batch(session, events, window_seconds=window)
        except Exception as exc:
            if not _is_bad_data(exc):
                raise
        # some event holds a value Postgres refuses: isolate it rather than redeliver forever
        applied = 0
        for event in events:
            try:
                async with self.sessions() as session, session.begin():
                    applied += await apply_batch(session, [event], window_seconds=window)
            except Exception as one:
                if not _is_bad_data(one):
                    raise
                await self.dead_letter(origin[event.event_id], one)
        return applied

    async def rewind(self) -> None:
        """Back to the committed offsets: the failed batch and anything fetched after it."""
        self.generation += 1
        try:
            for tp in self.consumer.assignment():
                committed = await self.consumer.committed(tp)
                if committed is None:
                    await self.consumer.seek_to_beginning(tp)
                else:
                    self.consumer.seek(tp, committed)
        except Exception:
            log.exception("rewinding failed; the next rebalance starts from committed offsets")

    async def dead_letter(self, record: ConsumerRecord[bytes, bytes], reason: Exception) -> None:
        await dead_letter_record(self.broker, record, reason)


def consumer_spans(records: Iterable[ConsumerRecord[bytes, bytes]]) -> list[Span]:
    """A consumer span for each record of a sampled trace, as the child of its producer."""
    spans = []
    for record in records:
        for key, value in record.headers:
            if key == TRACEPARENT:
                if is_sampled(value):
                    spans.append(
                        tracer.start_span(
                            f"{record.topic} process",
                            context_of(value.decode("latin-1")),
                            SpanKind.CONSUMER,
                            attributes={
                                "messaging.system": "kafka",
                                "messaging.operation.type": "process",
                                "messaging.destination.name": record.topic,
                                "messaging.kafka.offset": record.offset,
                            },
                        )
                    )
                break
    return spans


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, ingest: Ingest) -> None:
        self.ingest = ingest

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.ingest.generation += 1  # a decoded batch not yet started is dropped
        patience = self.ingest.settings.kafka_session_timeout_ms / 2000
        await self.ingest.settle(patience)  # the batch in flight commits while we still own it

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None
