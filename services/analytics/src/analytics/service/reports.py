"""The stats the gateway composes into its answers: the shares list's counters and the
link, pack and track reports (the gateway checks ownership before it asks)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from analytics.context import AnalyticsContext
from analytics.db import stats
from analytics.db.stats import Scope
from analytics.domain.reports import activity, link_plays, link_stats, require_range
from contracts.api.analytics import Activity, LinkReport, PackReport, TrackReport
from contracts.dto import LinkStats
from servicekit.errors import validation_error

MAX_IDS = 200


async def links_stats(ctx: AnalyticsContext, link_ids: list[str]) -> dict[str, LinkStats]:
    """The counters of up to MAX_IDS links in one statement."""
    if len(link_ids) > MAX_IDS:
        raise validation_error("too many ids", {"ids": f"at most {MAX_IDS}"})
    if not link_ids:
        return {}
    async with ctx.sessions() as session:
        return link_stats(await stats.link_stats_rows(session, link_ids))


async def scope_activity(session: AsyncSession, scope: Scope) -> Activity:
    """One scope's activity: its rows read (db/stats.py), then summed up (domain)."""
    return activity(await stats.report_rows(session, scope), scope.start, scope.end)


async def link_report(
    ctx: AnalyticsContext, link_id: str, start: date | None, end: date | None
) -> LinkReport:
    scope = Scope("link_id", link_id, *require_range(start, end))
    async with ctx.sessions() as session:
        found = await scope_activity(session, scope)
    return LinkReport(link_id=link_id, start=scope.start, end=scope.end, **dict(found))


async def pack_report(
    ctx: AnalyticsContext, pack_id: str, start: date | None, end: date | None
) -> PackReport:
    """Over all the pack's links. `uniqueVisitors` counts sessions, as Swayzio does."""
    scope = Scope("pack_id", pack_id, *require_range(start, end))
    async with ctx.sessions() as session:
        found = await scope_activity(session, scope)
    return PackReport(
        pack_id=pack_id,
        start=scope.start,
        end=scope.end,
        unique_visitors_by_session=found.unique_sessions,
        **dict(found),
    )


async def track_report(
    ctx: AnalyticsContext, track_id: str, start: date | None, end: date | None
) -> TrackReport:
    """Plays over time, by source, and through which links."""
    scope = Scope("track_id", track_id, *require_range(start, end))
    async with ctx.sessions() as session:
        found = await scope_activity(session, scope)
        by_link = link_plays(await stats.track_links(session, scope))
    return TrackReport(
        track_id=track_id, start=scope.start, end=scope.end, by_link=by_link, **dict(found)
    )
