"""The media worker's process (SPEC §7): consumes `media.jobs` and hands each job to
`service/media_worker.py`, and re-enqueues tracks whose job was lost.

Its own Deployment: `uvicorn catalog.worker:create_app --factory` serves only `/health/live`
on its API port and `/metrics` + `/health/ready` on its ops port, like every service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from litestar import Litestar
from prometheus_client import Counter
from pydantic import ValidationError

from catalog.db.models import outbox as outbox_table
from catalog.service.media_worker import MediaWorker
from catalog.settings import CatalogSettings
from catalog.storage import MediaStorage
from contracts import topics
from contracts.events import MediaJob, UnknownEventType, parse_event
from servicekit.app import build_service_app
from servicekit.db import make_engine, make_sessionmaker
from servicekit.dead_letters import send_to_dead_letters
from servicekit.health import database_check
from servicekit.kafka import broker_check, consumer_options, make_broker, producer_factory
from servicekit.outbox import Outbox, OutboxRelay

log = logging.getLogger(__name__)

GROUP_ID = "catalog.media-worker"
JOBS = Counter("encore_media_jobs_total", "Media jobs handled", ["outcome"])


def register(broker: KafkaBroker, worker: MediaWorker, settings: CatalogSettings) -> None:
    # one job may take minutes: the poll interval must outlast it
    options: dict[str, Any] = {**consumer_options(settings), "max_poll_interval_ms": 1_800_000}

    @broker.subscriber(
        topics.MEDIA_JOBS, group_id=GROUP_ID, ack_policy=AckPolicy.NACK_ON_ERROR, **options
    )
    async def on_job(message: KafkaMessage) -> None:
        try:
            envelope = parse_event(message.body)
            if not isinstance(envelope.payload, MediaJob):
                raise UnknownEventType(f"not a media job: {envelope.type}")
        except (ValidationError, UnknownEventType, ValueError) as exc:
            await send_to_dead_letters(broker, message, exc)
            return
        try:
            outcome = await worker.handle(envelope.payload)
        except Exception:
            # the database or storage is down: the job is redelivered, the worker goes on
            log.exception("media job for %s not finished", envelope.payload.track_id)
            JOBS.labels("error").inc()
            raise
        JOBS.labels(outcome).inc()
        log.info("media job for %s: %s", envelope.payload.track_id, outcome)


async def sweep_stuck(worker: MediaWorker, interval: float) -> None:
    """Every `interval` seconds, tracks stuck in `processing` get their job again."""
    while True:
        try:
            await worker.requeue_stuck()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("stuck-track sweep failed")
        await asyncio.sleep(interval)


def create_app(settings: CatalogSettings | None = None) -> Litestar:
    settings = settings or CatalogSettings()
    engine = make_engine(settings.database_url, pool_size=4)
    sessions = make_sessionmaker(engine)
    broker = make_broker(settings, "catalog-media-worker")
    outbox = Outbox(outbox_table)
    storage = MediaStorage(settings)
    worker = MediaWorker(settings, sessions, storage, outbox, broker)
    register(broker, worker, settings)
    relay = OutboxRelay(outbox, sessions, producer_factory(settings, "catalog-media-worker"))

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await storage.ensure_bucket()
        await broker.start()
        await relay.start()
        tasks = [
            asyncio.create_task(relay.run(), name="outbox-relay"),
            asyncio.create_task(
                sweep_stuck(worker, settings.media_stuck_sweep_interval_seconds),
                name="stuck-sweeper",
            ),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await relay.stop()
            await broker.stop()
            await engine.dispose()

    return build_service_app(
        "media-worker",
        settings,
        [],
        dependencies={},
        checks={
            "database": database_check(engine),
            "kafka": broker_check(broker),
            "storage": storage.ping,
        },
        lifespan=lifespan,
    )
