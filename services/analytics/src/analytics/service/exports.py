"""A report's raw engagement as CSV, streamed as the cursor yields it (any size)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date
from typing import Literal

from analytics.context import AnalyticsContext
from analytics.db.export import engagement_rows
from analytics.db.stats import Scope
from analytics.domain.exports import EXPORT_COLUMNS, csv_row
from analytics.domain.reports import require_range

ScopeColumn = Literal["link_id", "pack_id", "track_id"]


def engagement_csv(
    ctx: AnalyticsContext,
    column: ScopeColumn,
    scope_id: str,
    start: date | None,
    end: date | None,
) -> AsyncIterator[bytes]:
    """The CSV's chunks; the range is checked now, before any byte is sent."""
    return _chunks(ctx, Scope(column, scope_id, *require_range(start, end)))


async def _chunks(ctx: AnalyticsContext, scope: Scope) -> AsyncIterator[bytes]:
    """The header row, then the rows in chunks as the cursor yields them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    yield buffer.getvalue().encode()
    async with ctx.sessions() as session, session.begin():
        async for rows in engagement_rows(session, scope):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(csv_row(r) for r in rows)
            yield buffer.getvalue().encode()
