"""What a report says, from the rows db/stats.py reads (no I/O): totals, sources, devices,
previews, the daily series, listening and per-listener depth, and the range rule the stats
routes apply."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from analytics.domain.batch import COUNTER_OF, PREVIEWED
from analytics.domain.listening import completion, listener_name
from contracts.api.analytics import (
    Activity,
    CompletionBuckets,
    Counters,
    DailyCounters,
    Devices,
    Excluded,
    LinkPlays,
    ListenerDepth,
    Listeners,
    Listening,
    SignedInListener,
)
from contracts.dto import LinkStats
from servicekit.errors import validation_error

COUNTER_BY_TYPE = {model.TYPE: counter for model, counter in COUNTER_OF.items()}
COUNTERS = ("views", "plays", "downloads", "reshares")
UNKNOWN = "unknown"
MAX_SERIES_DAYS = 366


def require_range(start: date | None, end: date | None) -> tuple[date | None, date | None]:
    """A report's optional UTC date range; `from` after `to` is refused (422)."""
    if start and end and start > end:
        raise validation_error("from is after to", {"from": "must not be after to"})
    return start, end


@dataclass(frozen=True, slots=True)
class ReportRows:
    """What one report reads (db/stats.py `report_rows`), before it is summed up."""

    uniques: Any  # visitors, sessions, anonymous_listeners
    listeners: list[Any]  # signed-in listeners: user_handle, user_display_name, plays
    by_type: list[Any]  # daily counters summed by source, type, reason and device
    daily: list[Any]  # daily counters summed by day and type
    listening_days: list[Any]  # the scope's daily listening counters
    depth: list[Any]  # per listener and track: the union heard and its parts


def activity(rows: ReportRows, start: date | None, end: date | None) -> Activity:
    """Totals, uniques, listeners, sources and a UTC daily series for one scope."""
    by_source: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for row in rows.by_type:
        if counter := COUNTER_BY_TYPE.get(row.type):
            by_source[row.source or UNKNOWN][counter] += int(row.n)
    previews: dict[str, int] = defaultdict(int)
    for row in rows.by_type:
        if row.type == PREVIEWED:
            previews[str(row.reason or UNKNOWN)] += int(row.n)
    qualified = {r.day: int(r.qualified_plays) for r in rows.listening_days}
    return Activity(
        totals=Counters(**_totals(rows.by_type)),
        unique_visitors=int(rows.uniques.visitors),
        unique_sessions=int(rows.uniques.sessions),
        listeners=Listeners(
            signed_in=[
                SignedInListener(
                    handle=r.user_handle, display_name=r.user_display_name, plays=int(r.plays)
                )
                for r in rows.listeners
            ],
            anonymous=int(rows.uniques.anonymous_listeners),
        ),
        by_source={source: Counters(**counts) for source, counts in by_source.items()},
        daily=_series(rows.daily, start, end, qualified),
        listening=_listening(rows.listening_days),
        listener_depth=[_depth(r) for r in rows.depth],
        devices=_devices(rows.by_type),
        excluded=Excluded(previews=sum(previews.values()), by_reason=dict(previews)),
    )


def link_stats(rows: Iterable[Any]) -> dict[str, LinkStats]:
    """The shares list's counters, by link id."""
    return {
        row.link_id: LinkStats(
            views=row.views,
            plays=row.plays,
            downloads=row.downloads,
            reshares=row.reshares,
            unique_visitors=row.unique_visitors,
            qualified_plays=row.qualified_plays,
            previews=row.previews,
        )
        for row in rows
    }


def link_plays(rows: Iterable[Any]) -> list[LinkPlays]:
    """Plays of a track per link they came through (None: no link)."""
    return [LinkPlays(link_id=r.link_id, link_kind=r.link_kind, plays=int(r.plays)) for r in rows]


def _totals(rows: Iterable[Any]) -> dict[str, int]:
    totals = dict.fromkeys(COUNTERS, 0)
    for row in rows:
        counter = COUNTER_BY_TYPE.get(row.type)
        if counter:
            totals[counter] += int(row.n)
    return totals


def _devices(rows: Iterable[Any]) -> Devices:
    """People's counted engagements (previews are apart) by browser, OS and device class."""
    devices = Devices()
    for row in rows:
        if row.type == PREVIEWED or not row.n:
            continue
        for breakdown, value in (
            (devices.by_browser, row.browser),
            (devices.by_os, row.os),
            (devices.by_device_class, row.device_class),
        ):
            key = value or UNKNOWN
            breakdown[key] = breakdown.get(key, 0) + int(row.n)
    return devices


def _listening(days: Iterable[Any]) -> Listening:
    """Totals of the scope's daily listening counters over the range."""
    total: dict[str, float] = defaultdict(float)
    for row in days:
        for name, value in row._mapping.items():
            if name != "day":
                total[name] += value
    depth_plays = int(total["depth_plays"])
    return Listening(
        play_starts=int(total["play_starts"]),
        qualified_plays=int(total["qualified_plays"]),
        average_seconds_heard=round(total["seconds_heard"] / depth_plays, 1)
        if depth_plays
        else 0.0,
        completion=CompletionBuckets(
            **{f"reached_{p}": int(total[f"reached_{p}"]) for p in (25, 50, 75, 100)}
        ),
    )


def _depth(r: Any) -> ListenerDepth:
    return ListenerDepth(
        listener=listener_name(r.handle if r.signed_in else None, r.listener_key),
        signed_in=bool(r.signed_in),
        display_name=r.display_name if r.signed_in else None,
        track_id=r.track_id,
        plays=int(r.plays),
        seconds_heard=round(float(r.seconds), 1),
        furthest_seconds=round(float(r.furthest), 1),
        completion=round(completion(float(r.seconds), r.duration) or 0.0, 3),
    )


def _series(
    rows: Iterable[Any], start: date | None, end: date | None, qualified: dict[date, int]
) -> list[DailyCounters]:
    """One entry per UTC day from the range's start (or first activity) to its end."""
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for row in rows:
        if counter := COUNTER_BY_TYPE.get(row.type):
            per_day[row.day][counter] += int(row.n)
    for day, n in qualified.items():
        per_day[day]["qualified_plays"] = n
    if not per_day and (start is None or end is None):
        return []
    first = start or min(per_day)
    last = end or max(per_day)
    if (last - first).days > MAX_SERIES_DAYS:
        first = last - timedelta(days=MAX_SERIES_DAYS)
    days = (first + timedelta(days=i) for i in range((last - first).days + 1))
    return [DailyCounters(date=day, **per_day.get(day, {})) for day in days]
