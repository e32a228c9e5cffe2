"""Stats queries. The shares list costs one statement however many links it shows, and one
primary-key row per link (ingest keeps every counter, unique visitors included). A report
reads, in a fixed number of statements (six), what ingest keeps per scope: the daily
engagement counters (totals, sources, devices, previews, series: a few rows per day, never
a row per fact), the all-time uniques (one row; a date range counts distinct keys over its
facts), the daily listening counters (a row per day, however many beacons) and, for the
per-listener depth, each listener's kept union (all time) or the range's plays. These are
queries only: domain/reports.py makes the report of what they read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    distinct,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.db.models import SIGNED_IN_PLAY, link_stats, scope_uniques
from analytics.db.models import engagement_daily as daily_rollup
from analytics.db.models import engagement_facts as facts
from analytics.domain.batch import PREVIEWED
from analytics.domain.reports import ReportRows

DEPTH_LIMIT = 100
SCOPE_OF_COLUMN = {"link_id": "link", "pack_id": "pack", "track_id": "track"}
NO_UNIQUES = SimpleNamespace(visitors=0, sessions=0, anonymous_listeners=0)

LISTENING_DAYS = text("""
    select day, play_starts, depth_plays, qualified_plays, seconds_heard,
      reached_25, reached_50, reached_75, reached_100
    from analytics.listening_daily
    where scope = :scope and scope_id = :scope_id
      and (cast(:start as date) is null or day >= :start)
      and (cast(:end as date) is null or day <= :end)""")
# the union over a listener's plays of a track, longest first; `range_agg` of multiranges
# is their union, its length the sum of its ranges'. A listener with one play of the track
# in the range (most of them) has heard that play's own union, kept as its `seconds_heard`:
# measuring the union again was about a third of this statement.
LISTENER_DEPTH = """
    with per_listener as (
      select listener_key, track_id, max(user_handle) as handle,
        max(user_display_name) as display_name, bool_or(user_id is not null) as signed_in,
        count(*) as plays, range_agg(heard) as heard, max(furthest_seconds) as furthest,
        max(duration_seconds) as duration, max(seconds_heard) as one_play_seconds
      from analytics.plays
      where {column} = :scope_id
        and (cast(:start as timestamptz) is null or started_at >= :start)
        and (cast(:end as timestamptz) is null or started_at < :end)
      group by listener_key, track_id
    )
    select l.*, case when l.plays = 1 then l.one_play_seconds
      else analytics.multirange_seconds(l.heard) end as seconds
    from per_listener l
    order by seconds desc, listener_key, track_id
    limit {limit}"""
# without a range: the all-time unions ingest keeps, the most heard read by index
LISTENER_DEPTH_ALL_TIME = text("""
    select listener_key, track_id, user_handle as handle, user_display_name as display_name,
      listener_key like 'u:%' as signed_in, plays, furthest_seconds as furthest,
      duration_seconds as duration, seconds_heard as seconds
    from analytics.listener_tracks
    where scope = :scope and scope_id = :scope_id
    order by seconds_heard desc, listener_key, track_id
    limit :limit""")


async def link_stats_rows(session: AsyncSession, link_ids: list[str]) -> list[Any]:
    """Each asked-for link's counters (zeros for a link with none yet), one statement."""
    if not link_ids:
        return []
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
        func.coalesce(link_stats.c.qualified_plays, 0).label("qualified_plays"),
        func.coalesce(link_stats.c.previews, 0).label("previews"),
    ).select_from(wanted.outerjoin(link_stats, link_stats.c.link_id == wanted.c.link_id))
    return list((await session.execute(stmt)).all())


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

    def rollup(self) -> ColumnElement[bool]:
        """The same scope and range over the daily rollup (days are UTC, as the range)."""
        clauses = [
            daily_rollup.c.scope == SCOPE_OF_COLUMN[self.column],
            daily_rollup.c.scope_id == self.value,
        ]
        if self.start is not None:
            clauses.append(daily_rollup.c.day >= self.start)
        if self.end is not None:
            clauses.append(daily_rollup.c.day <= self.end)
        return and_(*clauses)

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The range as [start, end) instants (None: open)."""
        start = datetime.combine(self.start, time.min, UTC) if self.start else None
        end = (
            datetime.combine(self.end + timedelta(days=1), time.min, UTC)
            if self.end is not None and self.end < date.max
            else None
        )
        return start, end


async def report_rows(session: AsyncSession, scope: Scope) -> ReportRows:
    """What one scope's report reads, in six statements."""
    where = scope.where()
    counted = func.count().filter(facts.c.counted)
    uniques = await _uniques(session, scope)
    listeners = (
        await session.execute(
            select(facts.c.user_handle, facts.c.user_display_name, counted.label("plays"))
            # the index's own predicate, as literal SQL, so that a generic plan uses it
            .where(where, text(SIGNED_IN_PLAY))
            .group_by(facts.c.user_id, facts.c.user_handle, facts.c.user_display_name)
            .order_by(counted.desc(), facts.c.user_handle)
        )
    ).all()
    # totals, sources, previews by reason and devices: the range's daily counters, summed
    n = func.sum(daily_rollup.c.n).label("n")
    breakdown = (
        daily_rollup.c.source,
        daily_rollup.c.type,
        daily_rollup.c.reason,
        daily_rollup.c.browser,
        daily_rollup.c.os,
        daily_rollup.c.device_class,
    )
    by_type = (
        await session.execute(select(*breakdown, n).where(scope.rollup()).group_by(*breakdown))
    ).all()
    daily = (
        await session.execute(
            select(daily_rollup.c.day, daily_rollup.c.type, n)
            .where(scope.rollup())
            .group_by(daily_rollup.c.day, daily_rollup.c.type)
        )
    ).all()
    days = (
        await session.execute(
            LISTENING_DAYS,
            {
                "scope": SCOPE_OF_COLUMN[scope.column],
                "scope_id": scope.value,
                "start": scope.start,
                "end": scope.end,
            },
        )
    ).all()
    return ReportRows(
        uniques=uniques,
        listeners=list(listeners),
        by_type=list(by_type),
        daily=list(daily),
        listening_days=list(days),
        depth=await _listener_depth(session, scope),
    )


async def _uniques(session: AsyncSession, scope: Scope) -> Any:
    """Distinct visitors, sessions and anonymous listeners: all time, the one row ingest
    keeps; a range, a distinct count over the range's facts (no counter sums to it)."""
    if scope.start is None and scope.end is None:
        kept = (
            await session.execute(
                select(
                    scope_uniques.c.visitors,
                    scope_uniques.c.sessions,
                    scope_uniques.c.anonymous_listeners,
                ).where(
                    scope_uniques.c.scope == SCOPE_OF_COLUMN[scope.column],
                    scope_uniques.c.scope_id == scope.value,
                )
            )
        ).one_or_none()
        return kept or NO_UNIQUES
    human = facts.c.type != PREVIEWED
    # distinct under "C": byte equality, as under any deterministic collation, so the same
    # counts, without the locale-aware comparisons of the sort (about half this statement)
    return (
        await session.execute(
            select(
                func.count(distinct(facts.c.visitor_key.collate("C")))
                .filter(human)
                .label("visitors"),
                func.count(distinct(facts.c.session_id.collate("C")))
                .filter(human)
                .label("sessions"),
                func.count(distinct(facts.c.listener_key.collate("C")))
                .filter(facts.c.type == "track.played", facts.c.user_id.is_(None))
                .label("anonymous_listeners"),
            ).where(scope.where())
        )
    ).one()


async def _listener_depth(session: AsyncSession, scope: Scope) -> list[Any]:
    """All time: from `listener_tracks` (a hundred index entries); a range: the union over
    the scope's plays that started in it (a row per play of the range)."""
    start, end = scope.bounds()
    if start is None and end is None:
        rows = await session.execute(
            LISTENER_DEPTH_ALL_TIME,
            {"scope": SCOPE_OF_COLUMN[scope.column], "scope_id": scope.value, "limit": DEPTH_LIMIT},
        )
    else:
        query = text(LISTENER_DEPTH.format(column=scope.column, limit=DEPTH_LIMIT))
        rows = await session.execute(query, {"scope_id": scope.value, "start": start, "end": end})
    return list(rows)


async def track_links(session: AsyncSession, scope: Scope) -> list[Any]:
    """Plays of a track per link they came through (None: no link)."""
    rows = await session.execute(
        select(
            facts.c.link_id, facts.c.link_kind, func.count().filter(facts.c.counted).label("plays")
        )
        .where(scope.where(), facts.c.type == "track.played")
        .group_by(facts.c.link_id, facts.c.link_kind)
        .order_by(func.count().desc())
    )
    return list(rows)
