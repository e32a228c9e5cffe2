"""Kafka clients configured the same way in every service.

The consumer timings are tuned for quick group joins and low latency on the dev broker
(see INFRA.md: tansu wakes waiting fetches late and joins take session_timeout/2); they
are settings, so production can relax them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY

from servicekit.settings import ServiceSettings


def make_broker(settings: ServiceSettings, client_id: str) -> KafkaBroker:
    """A broker whose publish/consume metrics land in the process's Prometheus registry
    (served on /metrics next to the HTTP ones), and whose subscribers continue the trace of
    a record's `traceparent` header in a consumer span (publishes get a producer span)."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=client_id,
        middlewares=[
            KafkaTelemetryMiddleware(include_messages_counters=False),
            KafkaPrometheusMiddleware(registry=REGISTRY, app_name=f"encore_{client_id}"),
        ],
        acks="all",
        enable_idempotence=settings.kafka_idempotent_producer,
        request_timeout_ms=10_000,
        logger=None,
    )


def producer_factory(settings: ServiceSettings, client_id: str) -> Callable[[], AIOKafkaProducer]:
    """The outbox relay's own producer, configured as the broker's publisher is."""

    def make() -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            client_id=f"{client_id}-outbox",
            acks="all",
            enable_idempotence=settings.kafka_idempotent_producer,
            request_timeout_ms=10_000,
        )

    return make


def consumer_options(settings: ServiceSettings) -> dict[str, Any]:
    return {
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
    }


async def ensure_topics(bootstrap: str, topic_names: tuple[str, ...], partitions: int = 4) -> None:
    """Create topics that do not exist yet (the dev stack; Strimzi does it in a cluster)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name=name, num_partitions=partitions, replication_factor=1)
            for name in topic_names
            if name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()


def broker_check(broker: KafkaBroker) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        if not await broker.ping(timeout=2):
            raise ConnectionError("kafka unreachable")

    return check
