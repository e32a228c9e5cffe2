"""Enqueuing media jobs: a `media.jobs` event through the outbox, in the caller's
transaction, so a track is never committed without the job that processes it."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.context import PRODUCER
from catalog.db import tracks as repo
from contracts.events import MediaJob, wrap
from servicekit.outbox import Outbox
from servicekit.tracing import current_trace_id

Reason = Literal["upload", "replace", "backfill", "retry"]


async def enqueue(
    outbox: Outbox, session: AsyncSession, track_id: str, audio_key: str, reason: Reason
) -> None:
    """Mark the track `processing` for `audio_key` and write its job. The attempt count
    restarts for a new upload version, not for a retry of the same one."""
    await repo.mark_processing(session, track_id, audio_key, restart=reason != "retry")
    job = MediaJob(track_id=track_id, audio_key=audio_key, reason=reason)
    await outbox.add(session, wrap(job, producer=PRODUCER, trace_id=current_trace_id()))
