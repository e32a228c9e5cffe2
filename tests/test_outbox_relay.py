"""The outbox relay on real Postgres and Kafka: one publisher per outbox at a time (a
second relay holding the lock publishes nothing), rows deleted only once published, one
key's events in the order they were written, with the headers consumers read."""

from __future__ import annotations

import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from sqlalchemy import MetaData, func, insert, select, text

from devstack.suite import Suite
from servicekit.db import make_engine, make_sessionmaker
from servicekit.outbox import Outbox, OutboxRelay, outbox_table


async def test_one_relay_at_a_time_publishes_every_row_in_order(suite: Suite) -> None:
    schema = f"relay_{uuid.uuid4().hex[:8]}"
    table = outbox_table(MetaData(schema=schema))
    topic = f"relay-test-{uuid.uuid4().hex[:8]}"
    engine = make_engine(suite.infra.database_url, pool_size=3)
    broker = KafkaBroker(suite.infra.kafka_bootstrap)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"create schema {schema}"))
            await conn.run_sync(table.metadata.create_all)
        sessions = make_sessionmaker(engine)
        async with sessions.begin() as session:
            await session.execute(
                insert(table),
                [
                    {
                        "event_id": uuid.uuid4(),
                        "topic": topic,
                        "key": "k",
                        "value": json.dumps(n),
                        "trace_id": f"trace-{n}" if n % 2 else None,
                    }
                    for n in range(20)
                ],
            )
        relay = OutboxRelay(Outbox(table), sessions, broker)

        async def rows_left() -> int:
            async with sessions() as session:
                return int(await session.scalar(select(func.count()).select_from(table)) or 0)

        with pytest.raises(RuntimeError, match="not started"):  # the run loop backs off
            await relay.publish_batch()
        assert await rows_left() == 20
        await broker.connect()
        async with engine.connect() as other_relay:  # holds the lock in its open transaction
            await other_relay.execute(select(func.pg_advisory_xact_lock(relay._lock_key)))
            assert await relay.publish_batch() == 0
            assert await rows_left() == 20
        assert await relay.publish_batch() == 20
        assert await rows_left() == 0

        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=suite.infra.kafka_bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            received: list[tuple[int, dict[str, bytes]]] = []
            while len(received) < 20:
                batches = await consumer.getmany(timeout_ms=10_000)
                assert batches, f"only {len(received)} of 20 events arrived"
                received += [
                    (json.loads(m.value), dict(m.headers)) for ms in batches.values() for m in ms
                ]
        finally:
            await consumer.stop()
        assert [n for n, _ in received] == list(range(20))
        for n, headers in received:
            assert headers["content-type"] == b"application/json"
            assert headers.get("trace_id") == (f"trace-{n}".encode() if n % 2 else None)
    finally:
        await broker.stop()
        async with engine.begin() as conn:
            await conn.execute(text(f"drop schema if exists {schema} cascade"))
        await engine.dispose()
