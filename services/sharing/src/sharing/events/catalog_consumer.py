"""Keeps the track replica in step with `catalog.lifecycle`.

Idempotent by version, not by event id: every upsert keeps the newest version of its
track, split sheet or pack (sharing/db/replica.py), so a redelivered or reordered older
event changes nothing (docs/outbox.md)."""

from __future__ import annotations

import logging

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts import topics
from contracts.events import (
    PackChanged,
    SplitSheetChanged,
    TrackChanged,
    TrackDeleted,
    UnknownEventType,
    parse_event,
)
from servicekit.dead_letters import send_to_dead_letters
from servicekit.kafka import consumer_options
from servicekit.settings import ServiceSettings
from sharing.db import replica

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
        payload = envelope.payload
        async with sessions() as session, session.begin():
            if isinstance(payload, TrackChanged):
                await replica.upsert_snapshot(session, payload.track)
            elif isinstance(payload, TrackDeleted):
                await replica.mark_deleted(
                    session,
                    payload.track_id,
                    payload.organization_id,
                    payload.owner_id,
                    payload.deleted_at,
                )
            elif isinstance(payload, PackChanged):
                if payload.action == "deleted":
                    await replica.delete_pack(session, payload, envelope.occurred_at)
                else:
                    await replica.upsert_pack(session, payload)
            elif isinstance(payload, SplitSheetChanged):
                await replica.upsert_split_sheet(session, payload.split_sheet)
