"""Operator commands: dead letters (`encore-analytics dlq list`, `dlq replay`) and
`encore-analytics recount-unique-visitors`, `encore-analytics rebuild-rollups`.

`list` shows what is in `<topic>.dlq` (reason, original position, first bytes). `replay`
publishes every dead letter not replayed before back to its original topic, after a fix
made it processable; a consumer group remembers how far replays got, so running it twice
replays nothing twice. `recount-unique-visitors` repairs the unique-visitor counters after a
rolling update from a release that did not keep them (see `analytics.db.recount`);
`rebuild-rollups` does the same for the reports' daily counters and uniques
(`analytics.db.rollups`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.db import rollups
from analytics.db.recount import recount_unique_visitors
from analytics.events.consumer import CONSUMED_TOPICS
from analytics.settings import AnalyticsSettings
from contracts.topics import dead_letter_topic
from servicekit.db import make_engine, make_sessionmaker

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


async def _in_session(
    settings: AnalyticsSettings, work: Callable[[AsyncSession], Awaitable[int]]
) -> int:
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="encore-analytics", description=__doc__.splitlines()[0] if __doc__ else None
    )
    groups = parser.add_subparsers(dest="group", required=True)
    dlq = groups.add_parser("dlq").add_subparsers(dest="action", required=True)
    for name in ("list", "replay"):
        cmd = dlq.add_parser(name)
        cmd.add_argument(
            "--topic",
            action="append",
            choices=list(CONSUMED_TOPICS),
            help="default: every consumed topic",
        )
    for name in ("recount-unique-visitors", "rebuild-rollups"):
        groups.add_parser(name, help="after a rolling update; see docs/operations.md")
    args = parser.parse_args(argv)
    settings = AnalyticsSettings()
    if args.group == "recount-unique-visitors":
        corrected = asyncio.run(_in_session(settings, recount_unique_visitors))
        print(json.dumps({"links_corrected": corrected}))
        return
    if args.group == "rebuild-rollups":
        print(json.dumps({"daily_rows": asyncio.run(_in_session(settings, rollups.rebuild))}))
        return
    topics = args.topic or list(CONSUMED_TOPICS)
    if args.action == "list":
        letters = asyncio.run(list_dead_letters(settings, topics))
        json.dump(letters, sys.stdout, indent=2)
        print()
    else:
        print(json.dumps({"replayed": asyncio.run(replay_dead_letters(settings, topics))}))


if __name__ == "__main__":
    main()
