"""Keeps sharing's replicas in step with `catalog.lifecycle`.

Idempotent by version, not by event id: each event goes to
`sharing.service.replicas.apply_catalog_event`, whose upserts keep the newest version of
their track, split sheet or pack (a version guard in every upsert, sharing/db/replica.py),
so a redelivered, replayed or reordered older event changes nothing (docs/outbox.md). A
message that is no event goes to the dead-letter topic."""

from __future__ import annotations

import logging

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts import topics
from contracts.events import UnknownEventType, parse_event
from servicekit.dead_letters import send_to_dead_letters
from servicekit.kafka import consumer_options
from servicekit.settings import ServiceSettings
from sharing.service.replicas import apply_catalog_event

log = logging.getLogger(__name__)


def register_catalog_consumer(
    broker: KafkaBroker, settings: ServiceSettings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    @broker.subscriber(
        topics.CATALOG_LIFECYCLE,
        group_id="sharing.catalog-replica",
        ack_policy=AckPolicy.NACK_ON_ERROR,  # a failed upsert is redelivered, never skipped
        **consumer_options(settings),
    )
    async def on_catalog_event(message: KafkaMessage) -> None:
        body = message.body
        try:
            envelope = parse_event(body)
        except (ValidationError, UnknownEventType, ValueError) as exc:
            await send_to_dead_letters(broker, message, exc)
            return
        await apply_catalog_event(sessions, envelope)
