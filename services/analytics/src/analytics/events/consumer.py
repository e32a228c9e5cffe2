"""The analytics consumer: engagement and link lifecycle, in batches, exactly once in effect.

Offsets are committed only after the batch's transaction commits (ack after processing,
NACK_ON_ERROR so a failed transaction is redelivered); the processed-ids table makes the
redelivery harmless. A message that does not parse goes to its dead-letter topic and the
rest of the batch goes on.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.annotations import Consumer
from faststream.message import StreamMessage
from prometheus_client import Counter, Gauge, Histogram
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics.db.apply import apply_batch
from analytics.settings import AnalyticsSettings
from contracts import topics
from contracts.events import EventEnvelope, Payload, UnknownEventType, parse_event
from servicekit.dead_letters import dead_letter
from servicekit.kafka import consumer_options

log = logging.getLogger(__name__)

CONSUMED = Counter("encore_analytics_events_consumed_total", "Events read from Kafka", ["topic"])
APPLIED = Counter("encore_analytics_events_applied_total", "New events applied to aggregates")
BATCH_SECONDS = Histogram("encore_analytics_batch_seconds", "Time to apply one batch")
LAG = Gauge(
    "encore_analytics_consumer_lag",
    "Records behind the partition's high watermark (from fetch responses)",
    ["topic", "partition"],
)


async def report_lag(consumer: AIOKafkaConsumer) -> None:
    """Lag from the high watermark the last fetch reported, not from `end_offsets`
    (which the dev broker reports short)."""
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        position = await consumer.position(tp)
        LAG.labels(tp.topic, str(tp.partition)).set(max(highwater - position, 0))


CONSUMED_TOPICS = (*topics.ENGAGEMENT_TOPICS, topics.SHARE_LIFECYCLE)


async def skip_decoding(_: StreamMessage[Any]) -> None:
    """The handler parses raw records itself (contracts' parse_event), so FastStream's
    per-message JSON decoding would be wasted work on the hot path."""
    return None


def _is_bad_data(exc: BaseException) -> bool:
    """Postgres SQLSTATE class 22 (data exception): the input, not the database, is wrong."""
    while exc is not None:
        if str(getattr(exc, "sqlstate", "") or "").startswith("22"):
            return True
        exc = exc.__cause__ or getattr(exc, "orig", None)  # type: ignore[assignment]
    return False


def register_consumer(
    broker: KafkaBroker, settings: AnalyticsSettings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    @broker.subscriber(
        *CONSUMED_TOPICS,
        group_id=settings.consumer_group,
        batch=True,
        max_records=settings.consumer_batch_size,
        batch_timeout_ms=settings.consumer_batch_timeout_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=skip_decoding,
        **consumer_options(settings),
    )
    async def on_batch(message: KafkaMessage, consumer: Consumer) -> None:
        records = message.raw_message
        assert isinstance(records, tuple)
        envelopes: list[EventEnvelope[Payload]] = []
        origin: dict[Any, ConsumerRecord[Any, Any]] = {}
        per_topic: collections.Counter[str] = collections.Counter()
        for record in records:
            assert isinstance(record, ConsumerRecord)
            per_topic[record.topic] += 1
            try:
                envelopes.append(parse_event(record.value or b""))
                origin[envelopes[-1].event_id] = record
            except (ValidationError, UnknownEventType, ValueError) as exc:
                await dead_letter(
                    broker,
                    record.topic,
                    record.value,
                    record.key,
                    list(record.headers or ()),
                    exc,
                    record.partition,
                    record.offset,
                )
        for topic, count in per_topic.items():  # one metric update per topic, not per record
            CONSUMED.labels(topic).inc(count)
        if not envelopes:
            return
        try:
            with BATCH_SECONDS.time():
                async with sessions() as session, session.begin():
                    applied = await apply_batch(
                        session, envelopes, window_seconds=settings.play_dedupe_window_seconds
                    )
        except Exception as exc:
            if not _is_bad_data(exc):
                log.exception("applying %d events failed; they will be redelivered", len(envelopes))
                await asyncio.sleep(0.5)  # do not spin against a database that is down
                raise
            # some event holds a value Postgres refuses: isolate it rather than redeliver forever
            applied = 0
            for envelope in envelopes:
                try:
                    async with sessions() as session, session.begin():
                        applied += await apply_batch(
                            session, [envelope], window_seconds=settings.play_dedupe_window_seconds
                        )
                except Exception as one:
                    if not _is_bad_data(one):
                        raise
                    record = origin[envelope.event_id]
                    await dead_letter(
                        broker,
                        record.topic,
                        record.value,
                        record.key,
                        list(record.headers or ()),
                        one,
                        record.partition,
                        record.offset,
                    )
        APPLIED.inc(applied)
        await report_lag(consumer)
