"""The outbox relay on real Postgres and Kafka: one publisher per outbox at a time (a
second relay holding the lock publishes nothing, and takes over once it is released),
rows deleted only once published, one key's events in the order they were written, on the
partition a keyed `send` picks, with the headers consumers read."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import MetaData, func, insert, select, text

from devstack.suite import Suite
from servicekit.db import make_engine, make_sessionmaker
from servicekit.kafka import ensure_topics
from servicekit.outbox import Outbox, OutboxRelay, outbox_table

KEYS = [f"key-{k}" for k in range(6)]
EVENTS = 60


async def keyed_send_partitions(bootstrap: str, topic: str) -> dict[str, int]:
    """Where aiokafka's own keyed `send` puts each key."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        return {
            key: (await producer.send_and_wait(topic, b"probe", key=key.encode())).partition
            for key in KEYS
        }
    finally:
        await producer.stop()


async def test_one_relay_at_a_time_publishes_every_row_in_order(suite: Suite) -> None:
    schema = f"relay_{uuid.uuid4().hex[:8]}"
    table = outbox_table(MetaData(schema=schema))
    topic = f"relay-test-{uuid.uuid4().hex[:8]}"
    probe_topic = f"{topic}-probe"
    await ensure_topics(suite.infra.kafka_bootstrap, (topic, probe_topic), partitions=4)
    engine = make_engine(suite.infra.database_url, pool_size=3)
    relay = OutboxRelay(
        Outbox(table),
        make_sessionmaker(engine),
        lambda: AIOKafkaProducer(bootstrap_servers=suite.infra.kafka_bootstrap),
    )
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
                        "key": KEYS[n % len(KEYS)],
                        # big enough that one partition's rows span several record batches
                        "value": json.dumps({"n": n, "pad": "x" * 3000}),
                        "traceparent": unsampled(n) if n % 2 else None,
                    }
                    for n in range(EVENTS)
                ],
            )

        async def rows_left() -> int:
            async with sessions() as session:
                return int(await session.scalar(select(func.count()).select_from(table)) or 0)

        with pytest.raises(RuntimeError, match="not started"):  # the run loop backs off
            await relay.publish_batch()
        assert await rows_left() == EVENTS
        await relay.start()
        async with engine.connect() as other_relay:  # holds the lock in its open transaction
            await other_relay.execute(select(func.pg_advisory_xact_lock(relay.lock_key)))
            assert await relay.publish_batch() == 0
            assert await rows_left() == EVENTS
        assert await relay.publish_batch() == EVENTS
        assert await rows_left() == 0

        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=suite.infra.kafka_bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            received: list[tuple[int, str, int, dict[str, bytes]]] = []
            while len(received) < EVENTS:
                batches = await consumer.getmany(timeout_ms=10_000)
                assert batches, f"only {len(received)} of {EVENTS} events arrived"
                received += [
                    (json.loads(m.value)["n"], m.key.decode(), m.partition, dict(m.headers))
                    for ms in batches.values()
                    for m in ms
                ]
        finally:
            await consumer.stop()
        assert sorted(n for n, *_ in received) == list(range(EVENTS))
        expected = await keyed_send_partitions(suite.infra.kafka_bootstrap, probe_topic)
        assert len(set(expected.values())) > 1, "the keys should spread over partitions"
        for key in KEYS:
            mine = [(n, partition) for n, k, partition, _ in received if k == key]
            assert [n for n, _ in mine] == [n for n in range(EVENTS) if KEYS[n % len(KEYS)] == key]
            assert {partition for _, partition in mine} == {expected[key]}
        for n, _, _, headers in received:
            assert headers["content-type"] == b"application/json"
            # an unsampled trace's context goes on as the row has it (no producer span)
            assert headers.get("traceparent") == (unsampled(n).encode() if n % 2 else None)
    finally:
        await relay.stop()
        async with engine.begin() as conn:
            await conn.execute(text(f"drop schema if exists {schema} cascade"))
        await engine.dispose()


def unsampled(n: int) -> str:
    return f"00-{n:032x}-{n + 1:016x}-00"


async def test_two_relays_on_one_outbox_publish_each_row_once_in_key_order(suite: Suite) -> None:
    """Two replicas' relays polling one outbox at once: every round one of them holds the
    lock, so each row goes out exactly once and each key's events keep their order."""
    schema = f"relay_{uuid.uuid4().hex[:8]}"
    table = outbox_table(MetaData(schema=schema))
    topic = f"relay-pair-{uuid.uuid4().hex[:8]}"
    await ensure_topics(suite.infra.kafka_bootstrap, (topic,), partitions=4)
    engine = make_engine(suite.infra.database_url, pool_size=4)
    sessions = make_sessionmaker(engine)

    def producer() -> AIOKafkaProducer:
        return AIOKafkaProducer(bootstrap_servers=suite.infra.kafka_bootstrap)

    relays = [OutboxRelay(Outbox(table), sessions, producer, batch_size=7) for _ in range(2)]
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"create schema {schema}"))
            await conn.run_sync(table.metadata.create_all)
        async with sessions.begin() as session:
            await session.execute(
                insert(table),
                [
                    {
                        "event_id": uuid.uuid4(),
                        "topic": topic,
                        "key": KEYS[n % len(KEYS)],
                        "value": json.dumps({"n": n}),
                        "traceparent": None,
                    }
                    for n in range(EVENTS)
                ],
            )
        for relay in relays:
            await relay.start()
        published = [0, 0]
        for _ in range(EVENTS):  # far more rounds than needed: 7 rows a round at least
            counts = await asyncio.gather(*(relay.publish_batch() for relay in relays))
            published = [total + count for total, count in zip(published, counts, strict=True)]
            if sum(counts) == 0:
                break
        assert sum(published) == EVENTS

        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=suite.infra.kafka_bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            received: list[tuple[int, str]] = []
            while len(received) < EVENTS:
                batches = await consumer.getmany(timeout_ms=10_000)
                assert batches, f"only {len(received)} of {EVENTS} events arrived"
                received += [
                    (json.loads(m.value)["n"], m.key.decode())
                    for ms in batches.values()
                    for m in ms
                ]
            assert not await consumer.getmany(timeout_ms=1_000), "a row was published twice"
        finally:
            await consumer.stop()
        assert sorted(n for n, _ in received) == list(range(EVENTS))
        for key in KEYS:
            mine = [n for n, k in received if k == key]
            assert mine == [n for n in range(EVENTS) if KEYS[n % len(KEYS)] == key]
    finally:
        for relay in relays:
            await relay.stop()
        async with engine.begin() as conn:
            await conn.execute(text(f"drop schema if exists {schema} cascade"))
        await engine.dispose()
