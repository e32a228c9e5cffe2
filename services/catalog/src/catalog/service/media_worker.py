"""Handling one media job (SPEC §7): an upload turned into its renditions, peaks and
loudness, recorded on the track with its lifecycle event; and the re-enqueueing of tracks
whose job was lost. `catalog.worker` runs these as its own process.

A job is committed to Kafka only after it was handled, so a worker killed mid-job gets it
again; the attempt count lives in the database, so a file that kills the worker every time
still ends `failed` after `media_max_attempts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import tempfile
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from prometheus_client import Histogram
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import (
    AsyncRetrying,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from catalog.context import PRODUCER
from catalog.db import tracks as repo
from catalog.domain.media_assets import media_keys
from catalog.infra_errors import is_infrastructure_error
from catalog.media import MediaLimits, MediaRejected, process_audio
from catalog.service import media_jobs
from catalog.service.views import track_snapshot
from catalog.settings import CatalogSettings
from catalog.storage import MediaStorage
from contracts import topics
from contracts.events import MediaJob, TrackChanged, wrap
from servicekit.dead_letters import dead_letter
from servicekit.outbox import Outbox
from servicekit.tracing import current_trace_id

log = logging.getLogger(__name__)

SECONDS = Histogram(
    "encore_media_job_seconds",
    "Wall time of one processed media job",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900),
)
STUCK_BATCH = 100  # tracks re-enqueued per sweep


class JobFailed(Exception):
    """A job used up its attempts; `reason` goes on the track."""


def media_prefix(track_id: str) -> str:
    return f"tracks/{track_id}/media/"


class MediaWorker:
    def __init__(
        self,
        settings: CatalogSettings,
        sessions: async_sessionmaker[AsyncSession],
        storage: MediaStorage,
        outbox: Outbox,
        broker: KafkaBroker,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.storage = storage
        self.outbox = outbox
        self.broker = broker
        self.limits = MediaLimits(max_duration_seconds=settings.media_max_duration_seconds)

    async def handle(self, job: MediaJob) -> str:
        """One job, start to end; returns the outcome (for metrics and tests' logs)."""
        row = await self._current(job)
        if row is None:
            return "stale"
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self.settings.media_max_attempts),
                wait=wait_exponential(multiplier=self.settings.media_retry_wait_seconds, max=30),
                retry=retry_if_not_exception_type((MediaRejected, JobFailed)),
                reraise=True,
            ):
                with attempt:
                    attempts = await self._count_attempt(job)
                    if attempts is None:
                        return "stale"
                    if attempts > self.settings.media_max_attempts:
                        raise JobFailed(
                            f"processing failed {attempts - 1} times (the worker stopped "
                            "during the job each time)"
                        )
                    try:
                        await self._process(job)
                    except Exception as exc:
                        if is_infrastructure_error(exc):
                            await self._refund_attempt(job)
                        raise
        except MediaRejected as exc:
            await self.finish(job, failed=exc.reason)
            return "rejected"
        except JobFailed as exc:
            await self.finish(job, failed=str(exc))
            await self._dead_letter(job, exc)
            return "dead_lettered"
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise  # an outage, not the file: redelivered, the track stays `processing`
            log.exception("media job for %s kept failing", job.track_id)
            await self.finish(
                job,
                failed=f"processing failed {self.settings.media_max_attempts} times; "
                "the last error was logged",
            )
            await self._dead_letter(job, exc)  # only once the failure is on the track
            return "dead_lettered"
        return "ready"

    async def _current(self, job: MediaJob) -> Any:
        """The track if this job is still to do: its upload version, and not finished."""
        async with self.sessions() as session:
            row = await repo.get_track(session, job.track_id)
        if row is None or row.audio_key != job.audio_key:
            return None
        if row.processed_audio_key == job.audio_key and row.processing_state != "processing":
            return None  # a redelivered job for a finished upload version
        return row

    async def _count_attempt(self, job: MediaJob) -> int | None:
        async with self.sessions() as session, session.begin():
            return await repo.count_processing_attempt(session, job.track_id, job.audio_key)

    async def _refund_attempt(self, job: MediaJob) -> None:
        """An outage is not the file's fault: give back the attempt it used, so enough
        redeliveries during an outage do not fail the track. Best effort: the database
        may be what is down, and then the attempt stays counted."""
        with contextlib.suppress(Exception):
            async with self.sessions() as session, session.begin():
                await repo.refund_processing_attempt(session, job.track_id, job.audio_key)

    async def _process(self, job: MediaJob) -> None:
        run = secrets.token_hex(6)
        prefix = f"{media_prefix(job.track_id)}{run}/"
        with tempfile.TemporaryDirectory(prefix="encore-media-") as tmp:
            workdir = Path(tmp)
            source = workdir / "original"
            await asyncio.to_thread(
                self.storage.client.fget_object, self.storage.bucket, job.audio_key, str(source)
            )
            with SECONDS.time():
                result = await asyncio.to_thread(process_audio, source, workdir, self.limits)
            renditions = []
            for item in result.renditions:
                key = f"{prefix}{item.name}.{'m4a' if item.name == 'aac' else 'webm'}"
                size = item.path.stat().st_size
                with item.path.open("rb") as file:
                    await self.storage.put(key, file, size, item.content_type)
                renditions.append(
                    {
                        "name": item.name,
                        "key": key,
                        "content_type": item.content_type,
                        "codecs": item.codecs,
                        "bitrate": item.bitrate,
                        "size_bytes": size,
                    }
                )
            peaks = workdir / "peaks.json"
            peaks.write_text(result.peaks.model_dump_json())
            peaks_key = f"{prefix}peaks.json"
            with peaks.open("rb") as file:
                await self.storage.put(peaks_key, file, peaks.stat().st_size, "application/json")
        media = {"renditions": renditions, "peaks_key": peaks_key, "artwork": []}
        await self.finish(
            job,
            media=media,
            values={
                "duration_seconds": result.duration_seconds,
                "loudness_lufs": result.integrated_lufs,
                "true_peak_dbtp": result.true_peak_dbtp,
            },
        )

    async def finish(
        self,
        job: MediaJob,
        *,
        failed: str | None = None,
        media: dict[str, Any] | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        """ONE transaction: the outputs (or the failure) on the track, every other object
        under its media prefix scheduled for removal, and the lifecycle event.

        Kafka may hand the same job to two workers at once (a rebalance, a long job). The
        first to commit wins; a later run of the same job only removes its own objects.
        The winner's listing may have scheduled a slower run's objects, so a run that
        commits takes its own keys back off the removal schedule."""
        keep = set(media_keys(media))
        existing = await asyncio.to_thread(self._list, media_prefix(job.track_id))
        async with self.sessions() as session, session.begin():
            row = await repo.get_track(session, job.track_id, lock=True)
            if row is None or row.audio_key != job.audio_key:
                await repo.schedule_removal(session, *keep)  # replaced meanwhile: ours is moot
                return
            if row.processing_state == "ready" and row.processed_audio_key == job.audio_key:
                await repo.schedule_removal(session, *keep)  # another run of this job won
                return
            if failed is None:
                changes: dict[str, Any] = {
                    **(values or {}),
                    "processing_state": "ready",
                    "processing_reason": None,
                    "processed_audio_key": job.audio_key,
                    "media": media,
                }
            else:
                # a failed new version must not keep playing the old version's renditions
                changes = {
                    "processing_state": "failed",
                    "processing_reason": failed,
                    "processed_audio_key": job.audio_key,
                    "media": None,
                }
            orphans = [k for k in existing if k not in keep]
            orphans += [k for k in media_keys(row.media) if k not in keep]
            await repo.schedule_removal(session, *orphans)
            await repo.unschedule_removal(session, *keep)
            updated = await repo.update_track(session, job.track_id, changes)
            if updated.processing_state != row.processing_state or failed is None:
                await self.outbox.add(
                    session,
                    wrap(
                        TrackChanged(action="updated", track=track_snapshot(updated)),
                        producer=PRODUCER,
                        trace_id=current_trace_id(),
                    ),
                )

    def _list(self, prefix: str) -> list[str]:
        return [
            str(o.object_name)
            for o in self.storage.client.list_objects(
                self.storage.bucket, prefix=prefix, recursive=True
            )
        ]

    async def _dead_letter(self, job: MediaJob, reason: Exception) -> None:
        value = wrap(job, producer=PRODUCER).model_dump_json().encode()
        with contextlib.suppress(Exception):  # the track's state is the record that matters
            await dead_letter(
                self.broker, topics.MEDIA_JOBS, value, job.track_id.encode(), [], reason
            )

    async def requeue_stuck(self) -> int:
        """Tracks left `processing` past the deadline (a lost job, a dead worker) get
        their job again."""
        async with self.sessions() as session, session.begin():
            rows = await repo.lock_stuck_processing(
                session, self.settings.media_stuck_after_seconds, STUCK_BATCH
            )
            for row in rows:
                await media_jobs.enqueue(self.outbox, session, row.id, row.audio_key, "retry")
        if rows:
            log.warning("re-enqueued %d tracks stuck in processing", len(rows))
        return len(rows)
