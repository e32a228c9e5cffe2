"""Dead letters: what `<topic>.dlq` holds (reason, original position, first bytes), and
replaying them to their original topics once a fix made them processable. A consumer group
remembers how far replays got, so replaying twice replays nothing twice; a letter replayed
once and dead again is left for a person to read."""

from __future__ import annotations

import sys
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from analytics.settings import AnalyticsSettings
from contracts.topics import dead_letter_topic

REPLAY_GROUP = "analytics-dlq-replay"
IDLE_SECONDS = 2.0


def _consumer(settings: AnalyticsSettings, topics: list[str], group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        fetch_max_wait_ms=50,
    )


async def _drain(consumer: AIOKafkaConsumer) -> Any:
    """Yield batches until nothing new arrives for a while."""
    idle = 0.0
    while idle < IDLE_SECONDS:
        batch = await consumer.getmany(timeout_ms=250, max_records=500)
        if not batch:
            if consumer.assignment():  # idle time counts once the group has joined
                idle += 0.25
            continue
        idle = 0.0
        yield batch


async def list_dead_letters(settings: AnalyticsSettings, topics: list[str]) -> list[dict[str, Any]]:
    consumer = _consumer(
        settings, [dead_letter_topic(t) for t in topics], f"dlq-list-{uuid.uuid4().hex}"
    )
    await consumer.start()
    found = []
    try:
        async for batch in _drain(consumer):
            for records in batch.values():
                for record in records:
                    headers = {k: v.decode("utf-8", "replace") for k, v in record.headers}
                    found.append(
                        {
                            "dlq_topic": record.topic,
                            "dlq_offset": record.offset,
                            "key": (record.key or b"").decode("utf-8", "replace"),
                            "topic": headers.get("dlq-original-topic"),
                            "offset": headers.get("dlq-original-offset"),
                            "reason": headers.get("dlq-reason"),
                            "value": (record.value or b"")[:200].decode("utf-8", "replace"),
                        }
                    )
    finally:
        await consumer.stop()
    return found


async def replay_dead_letters(settings: AnalyticsSettings, topics: list[str]) -> int:
    consumer = _consumer(settings, [dead_letter_topic(t) for t in topics], REPLAY_GROUP)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await consumer.start()
    await producer.start()
    replayed = skipped = 0
    try:
        async for batch in _drain(consumer):
            offsets: dict[TopicPartition, int] = {}
            for tp, records in batch.items():
                for record in records:
                    offsets[tp] = record.offset + 1
                    if any(k == "dlq-replayed" for k, _ in record.headers):
                        skipped += 1  # replayed once and dead again: left for a person to read
                        continue
                    headers = [(k, v) for k, v in record.headers if not k.startswith("dlq-")]
                    original = dict(record.headers).get(
                        "dlq-original-topic", b""
                    ).decode() or tp.topic.removesuffix(".dlq")
                    await producer.send_and_wait(
                        original,
                        record.value,
                        key=record.key,
                        headers=[*headers, ("dlq-replayed", b"1")],
                    )
                    replayed += 1
            await consumer.commit(offsets)
    finally:
        await producer.stop()
        await consumer.stop()
    if skipped:
        print(
            f"{skipped} dead letters had been replayed before and failed again; not replayed",
            file=sys.stderr,
        )
    return replayed
