"""Poison messages go to `<topic>.dlq` with the reason and their original bytes and headers,
published in the trace the message belonged to (the broker's telemetry writes the dead
letter's own `traceparent`)."""

from __future__ import annotations

import logging
from contextlib import nullcontext

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker, KafkaMessage
from prometheus_client import Counter

from contracts.topics import dead_letter_topic
from servicekit.tracing import TRACEPARENT, continued, current_trace_id

log = logging.getLogger(__name__)

DEAD_LETTERS = Counter(
    "encore_dead_letters_total", "Messages sent to a dead-letter topic", ["topic"]
)


async def dead_letter(
    broker: KafkaBroker,
    topic: str,
    value: bytes | None,
    key: bytes | None,
    headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...],
    reason: Exception,
    partition: int | None = None,
    offset: int | None = None,
) -> None:
    out_headers = {k: v.decode("utf-8", "replace") for k, v in headers}
    out_headers.update(
        {
            "dlq-reason": f"{type(reason).__name__}: {reason}"[:2000],
            "dlq-original-topic": topic,
            "dlq-original-partition": str(partition),
            "dlq-original-offset": str(offset),
        }
    )
    # outside a consumer span (analytics reads with aiokafka), continue the message's trace
    parent = out_headers.get(TRACEPARENT) if current_trace_id() is None else None
    with continued(parent) if parent else nullcontext():
        await broker.publish(value or b"", dead_letter_topic(topic), key=key, headers=out_headers)
    DEAD_LETTERS.labels(topic).inc()
    log.warning("dead-lettered a message from %s@%s: %s", topic, offset, reason)


async def send_to_dead_letters(
    broker: KafkaBroker, message: KafkaMessage, reason: Exception
) -> None:
    record = message.raw_message
    assert isinstance(record, ConsumerRecord)
    await dead_letter_record(broker, record, reason)


async def dead_letter_record(
    broker: KafkaBroker, record: ConsumerRecord[bytes, bytes], reason: Exception
) -> None:
    """Dead-letter a record as aiokafka delivered it, with where it came from."""
    await dead_letter(
        broker,
        record.topic,
        record.value,
        record.key,
        list(record.headers or ()),
        reason,
        record.partition,
        record.offset,
    )
