"""The rows of a report's raw engagement, streamed from a server-side cursor (any size):
every engagement fact of the scope and range and every play heard through beacons, in time
order (domain/exports.py says what each row becomes)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.db.stats import Scope

ROWS_PER_CHUNK = 2000  # rows fetched from the cursor per partition

EXPORT = """
    select occurred_at as at, type, counted, link_id, track_id, source, browser, os,
      device_class, user_handle, coalesce(listener_key, visitor_key) as who,
      null::float8 as seconds_heard, null::bool as qualified, reason
    from analytics.engagement_facts
    where {column} = :scope_id
      and (cast(:start as timestamptz) is null or occurred_at >= :start)
      and (cast(:end as timestamptz) is null or occurred_at < :end)
    union all
    select started_at, 'listen', true, link_id, track_id, source, browser, os, device_class,
      user_handle, listener_key, seconds_heard, qualified, null
    from analytics.plays
    where {column} = :scope_id
      and (cast(:start as timestamptz) is null or started_at >= :start)
      and (cast(:end as timestamptz) is null or started_at < :end)
    order by 1"""


async def engagement_rows(session: AsyncSession, scope: Scope) -> AsyncIterator[Sequence[Any]]:
    """The scope's rows, a partition of up to ROWS_PER_CHUNK at a time."""
    start, end = scope.bounds()
    result = await session.stream(
        text(EXPORT.format(column=scope.column)),
        {"scope_id": scope.value, "start": start, "end": end},
        execution_options={"yield_per": ROWS_PER_CHUNK},
    )
    async for rows in result.partitions():
        yield rows
