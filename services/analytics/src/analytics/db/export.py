"""A report's raw engagement as CSV rows, streamed (server-side cursor), any size.

One row per engagement fact of the scope and range (views, plays, downloads, re-shares and
previews, `counted` false for a repeat inside a dedupe window) and one row per play heard
through beacons (`listen`, with its seconds heard), in time order. A play's time is its
start, the instant the report's listening counters attribute it to. The columns are
`EXPORT_COLUMNS`; a listener is named as in the report's listener depth."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics.db.stats import Scope
from analytics.domain.listening import listener_name

EXPORT_COLUMNS = (
    "time",
    "kind",
    "counted",
    "link_id",
    "track_id",
    "source",
    "browser",
    "os",
    "device_class",
    "listener",
    "seconds_heard",
    "qualified",
    "preview_reason",
)
KIND_OF_TYPE = {
    "share.clicked": "view",
    "pack.viewed": "view",
    "track.played": "play",
    "track.downloaded": "download",
    "share.recorded": "reshare",
    "share.previewed": "preview",
}
LISTEN = "listen"
ROWS_PER_CHUNK = 2000  # rows fetched from the cursor and written per chunk of the body

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


def _row(r: Any) -> list[Any]:
    kind = LISTEN if r.type == LISTEN else KIND_OF_TYPE.get(r.type, r.type)
    who = listener_name(r.user_handle, r.who) if (r.user_handle or r.who) else ""
    return [
        r.at.isoformat(),
        kind,
        "true" if r.counted else "false",
        r.link_id or "",
        r.track_id or "",
        r.source or "",
        r.browser or "unknown",
        r.os or "unknown",
        r.device_class or "unknown",
        who,
        "" if r.seconds_heard is None else round(r.seconds_heard, 1),
        "" if r.qualified is None else ("true" if r.qualified else "false"),
        r.reason or "",
    ]


async def csv_chunks(
    sessions: async_sessionmaker[AsyncSession], scope: Scope
) -> AsyncIterator[bytes]:
    """The header row, then the rows in chunks as the cursor yields them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue().encode()
    start, end = scope.bounds()
    query = text(EXPORT.format(column=scope.column))
    async with sessions() as session, session.begin():
        result = await session.stream(
            query,
            {"scope_id": scope.value, "start": start, "end": end},
            execution_options={"yield_per": ROWS_PER_CHUNK},
        )
        async for rows in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(_row(r) for r in rows)
            yield buffer.getvalue().encode()
