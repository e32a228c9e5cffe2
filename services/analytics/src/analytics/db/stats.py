"""Stats queries. The shares list costs one statement however many links it shows, and one
primary-key row per link (ingest keeps every counter, unique visitors included); the
analytics pages read raw facts, filtered by date range, in a handful of statements."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, String, and_, cast, distinct, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.db.models import engagement_facts as facts
from analytics.db.models import link_stats
from analytics.domain.batch import COUNTER_OF
from contracts.api.analytics import (
    Activity,
    Counters,
    DailyCounters,
    LinkPlays,
    Listeners,
    SignedInListener,
)
from contracts.dto import LinkStats

COUNTER_BY_TYPE = {model.TYPE: counter for model, counter in COUNTER_OF.items()}
COUNTERS = ("views", "plays", "downloads", "reshares")


async def stats_for_links(session: AsyncSession, link_ids: list[str]) -> dict[str, LinkStats]:
    if not link_ids:
        return {}
    wanted = (
        func.unnest(literal(link_ids, ARRAY(String)))
        .table_valued("link_id")
        .render_derived(name="wanted")
    )
    stmt = select(
        wanted.c.link_id,
        func.coalesce(link_stats.c.views, 0).label("views"),
        func.coalesce(link_stats.c.plays, 0).label("plays"),
        func.coalesce(link_stats.c.downloads, 0).label("downloads"),
        func.coalesce(link_stats.c.reshares, 0).label("reshares"),
        func.coalesce(link_stats.c.unique_visitors, 0).label("unique_visitors"),
    ).select_from(wanted.outerjoin(link_stats, link_stats.c.link_id == wanted.c.link_id))
    rows = (await session.execute(stmt)).all()
    return {
        row.link_id: LinkStats(
            views=row.views,
            plays=row.plays,
            downloads=row.downloads,
            reshares=row.reshares,
            unique_visitors=row.unique_visitors,
        )
        for row in rows
    }


@dataclass(frozen=True, slots=True)
class Scope:
    """Which facts a report covers: one link, one pack (all its links) or one track."""

    column: str
    value: str
    start: date | None
    end: date | None

    def where(self) -> ColumnElement[bool]:
        clauses = [facts.c[self.column] == self.value]
        if self.start is not None:
            clauses.append(facts.c.occurred_at >= datetime.combine(self.start, time.min, UTC))
        if self.end is not None and self.end < date.max:  # no day follows 9999-12-31
            clauses.append(
                facts.c.occurred_at < datetime.combine(self.end + timedelta(days=1), time.min, UTC)
            )
        return and_(*clauses)


def _totals(rows: Any) -> dict[str, int]:
    totals = dict.fromkeys(COUNTERS, 0)
    for row in rows:
        counter = COUNTER_BY_TYPE.get(row.type)
        if counter:
            totals[counter] += int(row.n)
    return totals


async def report(session: AsyncSession, scope: Scope) -> Activity:
    """Totals, uniques, listeners, sources and a UTC daily series for one scope."""
    where = scope.where()
    counted = func.count().filter(facts.c.counted)
    day = cast(func.timezone("UTC", facts.c.occurred_at), Date).label("day")

    by_type = (
        await session.execute(
            select(facts.c.type, counted.label("n")).where(where).group_by(facts.c.type)
        )
    ).all()
    uniques = (
        await session.execute(
            select(
                func.count(distinct(facts.c.visitor_key)).label("visitors"),
                func.count(distinct(facts.c.session_id)).label("sessions"),
                func.count(distinct(facts.c.listener_key))
                .filter(facts.c.type == "track.played", facts.c.user_id.is_(None))
                .label("anonymous_listeners"),
            ).where(where)
        )
    ).one()
    listeners = (
        await session.execute(
            select(facts.c.user_handle, facts.c.user_display_name, counted.label("plays"))
            .where(where, facts.c.type == "track.played", facts.c.user_id.is_not(None))
            .group_by(facts.c.user_id, facts.c.user_handle, facts.c.user_display_name)
            .order_by(counted.desc(), facts.c.user_handle)
        )
    ).all()
    sources = (
        await session.execute(
            select(facts.c.source, facts.c.type, counted.label("n"))
            .where(where)
            .group_by(facts.c.source, facts.c.type)
        )
    ).all()
    daily = (
        await session.execute(
            select(
                day,
                facts.c.type,
                counted.label("n"),
                func.count(distinct(facts.c.visitor_key)).label("visitors"),
            )
            .where(where)
            .group_by(day, facts.c.type)
        )
    ).all()

    by_source: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for row in sources:
        if counter := COUNTER_BY_TYPE.get(row.type):
            by_source[row.source or "unknown"][counter] += int(row.n)
    return Activity(
        totals=Counters(**_totals(by_type)),
        unique_visitors=int(uniques.visitors),
        unique_sessions=int(uniques.sessions),
        listeners=Listeners(
            signed_in=[
                SignedInListener(
                    handle=r.user_handle, display_name=r.user_display_name, plays=int(r.plays)
                )
                for r in listeners
            ],
            anonymous=int(uniques.anonymous_listeners),
        ),
        by_source={source: Counters(**counts) for source, counts in by_source.items()},
        daily=_series(daily, scope),
    )


def _series(rows: Any, scope: Scope) -> list[DailyCounters]:
    """One entry per UTC day from the range's start (or first activity) to its end."""
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for row in rows:
        if counter := COUNTER_BY_TYPE.get(row.type):
            per_day[row.day][counter] += int(row.n)
    if not per_day and (scope.start is None or scope.end is None):
        return []
    first = scope.start or min(per_day)
    last = scope.end or max(per_day)
    if (last - first).days > 366:
        first = last - timedelta(days=366)
    days = (first + timedelta(days=i) for i in range((last - first).days + 1))
    return [DailyCounters(date=day, **per_day.get(day, {})) for day in days]


async def track_links(session: AsyncSession, scope: Scope) -> list[LinkPlays]:
    """Plays of a track per link they came through (None: no link)."""
    rows = await session.execute(
        select(
            facts.c.link_id, facts.c.link_kind, func.count().filter(facts.c.counted).label("plays")
        )
        .where(scope.where(), facts.c.type == "track.played")
        .group_by(facts.c.link_id, facts.c.link_kind)
        .order_by(func.count().desc())
    )
    return [LinkPlays(link_id=r.link_id, link_kind=r.link_kind, plays=int(r.plays)) for r in rows]
