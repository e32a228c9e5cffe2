"""The media worker's job subscriber (a FastStream subscriber) through `TestKafkaBroker`, on
a real Postgres and without S3: what it does with jobs it must not process, a poison message,
and a storage outage. (Processing itself, which reads and writes S3, is covered end to end
in tests/test_media_pipeline.py.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.db.models import outbox, tracks
from catalog.db.tracks import insert_track
from catalog.service.media_worker import MediaWorker
from catalog.settings import CatalogSettings
from catalog.storage import MediaStorage
from catalog.worker import register
from contracts import topics
from contracts.events import MediaJob, wrap
from devstack.processes import free_port
from servicekit.outbox import Outbox


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> CatalogSettings:
    return CatalogSettings(
        **service_settings,
        s3_endpoint=f"http://127.0.0.1:{free_port()}",  # storage is down
        media_max_attempts=1,
        media_retry_wait_seconds=0,
    )


@pytest.fixture
async def jobs(
    settings: CatalogSettings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[KafkaBroker, list[KafkaMessage]]]:
    """The worker's subscriber on an in-memory broker, and what reaches the dead letters."""
    broker = KafkaBroker(settings.kafka_bootstrap)
    worker = MediaWorker(settings, sessions, MediaStorage(settings), Outbox(outbox), broker)
    register(broker, worker, settings)
    dead: list[KafkaMessage] = []

    @broker.subscriber(topics.dead_letter_topic(topics.MEDIA_JOBS))
    async def capture(message: KafkaMessage) -> None:
        dead.append(message)

    async with TestKafkaBroker(broker) as test_broker:
        yield test_broker, dead


async def seed(sessions: async_sessionmaker[AsyncSession], **values: Any) -> str:
    track_id = f"trk_{uuid.uuid4().hex[:16]}"
    async with sessions() as session, session.begin():
        await insert_track(
            session,
            {
                "id": track_id,
                "organization_id": "org_a",
                "owner_id": "usr_a",
                "title": "Tone",
                "audio_key": f"tracks/{track_id}/audio-2.mp3",
                "content_type": "audio/mpeg",
                "size_bytes": 1000,
                "checksum_sha256": "0" * 64,
                **values,
            },
        )
    return track_id


async def state(sessions: async_sessionmaker[AsyncSession], track_id: str) -> tuple[Any, ...]:
    async with sessions() as session:
        row = (
            await session.execute(
                select(
                    tracks.c.processing_state,
                    tracks.c.processing_attempts,
                    tracks.c.processing_reason,
                ).where(tracks.c.id == track_id)
            )
        ).one()
    return tuple(row)


async def publish(broker: KafkaBroker, job: MediaJob) -> None:
    envelope = wrap(job, producer="catalog")
    await broker.publish(envelope.model_dump_json().encode(), topics.MEDIA_JOBS, key=b"k")


async def test_a_job_for_a_replaced_upload_changes_nothing(
    jobs: tuple[KafkaBroker, list[KafkaMessage]], sessions: async_sessionmaker[AsyncSession]
) -> None:
    broker, dead = jobs
    track_id = await seed(sessions)
    old_upload = MediaJob(track_id=track_id, audio_key=f"tracks/{track_id}/audio-1.mp3")
    await publish(broker, old_upload)
    assert await state(sessions, track_id) == ("processing", 0, None)
    assert dead == []


async def test_a_redelivered_job_for_a_finished_upload_changes_nothing(
    jobs: tuple[KafkaBroker, list[KafkaMessage]], sessions: async_sessionmaker[AsyncSession]
) -> None:
    broker, dead = jobs
    key = f"tracks/{uuid.uuid4().hex}/audio.mp3"
    track_id = await seed(
        sessions, audio_key=key, processed_audio_key=key, processing_state="ready"
    )
    await publish(broker, MediaJob(track_id=track_id, audio_key=key))
    assert await state(sessions, track_id) == ("ready", 0, None)
    assert dead == []


async def test_a_poison_message_is_dead_lettered(
    jobs: tuple[KafkaBroker, list[KafkaMessage]],
) -> None:
    broker, dead = jobs
    await broker.publish(b'{"type": "media.job", "payload": {}}', topics.MEDIA_JOBS)
    assert [m.body for m in dead] == [b'{"type": "media.job", "payload": {}}']
    assert dead[0].headers["dlq-original-topic"] == topics.MEDIA_JOBS


async def test_a_storage_outage_leaves_the_track_processing_with_its_attempt_given_back(
    jobs: tuple[KafkaBroker, list[KafkaMessage]], sessions: async_sessionmaker[AsyncSession]
) -> None:
    broker, dead = jobs
    track_id = await seed(sessions)
    job = MediaJob(track_id=track_id, audio_key=f"tracks/{track_id}/audio-2.mp3")
    # the subscriber raises, so Kafka would redeliver the job (NACK_ON_ERROR)
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the storage client raised
        await publish(broker, job)
    assert await state(sessions, track_id) == ("processing", 0, None)
    assert dead == [], "an outage is not the file's fault: nothing is dead-lettered"
