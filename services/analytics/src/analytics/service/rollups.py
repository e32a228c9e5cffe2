"""Operator repairs after a rolling update from a release that did not keep a counter:
each runs in one transaction that holds off ingest's inserts while it recounts."""

from __future__ import annotations

from analytics.context import AnalyticsContext
from analytics.db import recount, rollups


async def rebuild_rollups(ctx: AnalyticsContext) -> int:
    """Recompute the reports' daily counters and uniques from every fact (db/rollups.py);
    returns the daily rows written."""
    async with ctx.sessions() as session, session.begin():
        return await rollups.rebuild(session)


async def recount_unique_visitors(ctx: AnalyticsContext) -> int:
    """Set every link's unique-visitor counter from its visitors (db/recount.py); returns
    how many changed."""
    async with ctx.sessions() as session, session.begin():
        return await recount.recount_unique_visitors(session)
