"""Outbox -> Kafka -> analytics on the real broker: idempotent by event id, poison to DLQ."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from aiokafka import AIOKafkaProducer

from contracts import topics
from contracts.events import ShareClicked, TrackPlayed, Visitor, wrap
from devstack.suite import Suite
from servicekit.internal import INTERNAL_TOKEN_HEADER
from tests.conftest import eventually


def publish(bootstrap: str, topic: str, values: list[tuple[bytes, bytes]]) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for key, value in values:
                await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(run())


def link_stats(suite: Suite, link_id: str) -> dict[str, int]:
    response = httpx.get(
        suite.url("analytics") + "/internal/stats/links",
        params={"ids": link_id},
        headers={INTERNAL_TOKEN_HEADER: suite.internal_token},
    )
    assert response.status_code == 200, response.text
    return dict(response.json()[link_id])


def test_internal_api_refuses_calls_without_the_internal_credential(suite: Suite) -> None:
    response = httpx.get(suite.url("analytics") + "/internal/stats/links", params={"ids": "x"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTHENTICATION_REQUIRED"


def test_a_redelivered_event_counts_once(suite: Suite) -> None:
    link_id = "mslink_" + uuid.uuid4().hex[:12]
    event = wrap(
        ShareClicked(link_id=link_id, link_kind="track", visitor=Visitor(visitor_id="v")),
        producer="test",
    )
    marker = wrap(
        TrackPlayed(link_id=link_id, track_id="mtrack_x", visitor=Visitor(visitor_id="v")),
        producer="test",
    )
    raw = event.model_dump_json().encode()
    publish(suite.infra.kafka_bootstrap, topics.SHARE_CLICKED, [(link_id.encode(), raw)] * 3)
    publish(
        suite.infra.kafka_bootstrap,
        topics.TRACK_PLAYED,
        [(b"mtrack_x", marker.model_dump_json().encode())],
    )
    eventually(
        lambda: (
            link_stats(suite, link_id)["plays"] == 1 and link_stats(suite, link_id)["views"] >= 1
        )
    )
    # all three copies precede nothing else on their partition; give the consumer its batch
    publish(suite.infra.kafka_bootstrap, topics.SHARE_CLICKED, [(link_id.encode(), raw)])
    second = wrap(
        ShareClicked(link_id=link_id, link_kind="track", visitor=Visitor(visitor_id="w")),
        producer="test",
    )
    publish(
        suite.infra.kafka_bootstrap,
        topics.SHARE_CLICKED,
        [(link_id.encode(), second.model_dump_json().encode())],
    )
    stats = eventually(lambda: (s := link_stats(suite, link_id))["unique_visitors"] == 2 and s)
    assert stats["views"] == 2, "four copies of one event and one other event are two views"
    assert stats["plays"] == 1


def test_a_poison_message_goes_to_the_dead_letter_topic_and_consumption_goes_on(
    suite: Suite,
) -> None:
    from tests.conftest import read_events_raw

    link_id = "mslink_" + uuid.uuid4().hex[:12]
    poison = b'{"type": "share.clicked", "payload": {"link_id": 42}} ' + link_id.encode()
    good = wrap(
        ShareClicked(link_id=link_id, link_kind="track", visitor=Visitor(visitor_id="v")),
        producer="test",
    )
    publish(
        suite.infra.kafka_bootstrap,
        topics.SHARE_CLICKED,
        [(link_id.encode(), poison), (link_id.encode(), good.model_dump_json().encode())],
    )
    assert eventually(lambda: link_stats(suite, link_id)["views"] == 1)
    dead = read_events_raw(
        suite.infra.kafka_bootstrap,
        topics.dead_letter_topic(topics.SHARE_CLICKED),
        lambda records: any(r.value == poison for r in records),
    )
    record = next(r for r in dead if r.value == poison)
    headers = {k: v.decode() for k, v in record.headers}
    assert headers["dlq-original-topic"] == topics.SHARE_CLICKED
    assert "ValidationError" in headers["dlq-reason"]
