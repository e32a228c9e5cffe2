"""What the analytics part of a link, pack or track page shows: the report's numbers, its
charts (charts.py) and the same numbers as tables, rendered as one fragment so the live
stream (live.py) can send the page a fresh copy as it is."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from contracts.api.analytics import Report
from gateway.dashboard import charts
from gateway.web.templating import ENVIRONMENT

DAILY_SERIES = (("views", "Views"), ("plays", "Plays"), ("qualified_plays", "Qualified plays"))


@dataclass(frozen=True)
class Summary:
    """The headline numbers, by the names the page (and the live script) know them by."""

    views: int
    plays: int
    qualified_plays: int
    downloads: int
    reshares: int
    unique_visitors: int
    average_seconds_heard: float

    @classmethod
    def of(cls, report: Report) -> Summary:
        return cls(
            views=report.totals.views,
            plays=report.totals.plays,
            qualified_plays=report.listening.qualified_plays,
            downloads=report.totals.downloads,
            reshares=report.totals.reshares,
            unique_visitors=report.unique_visitors,
            average_seconds_heard=report.listening.average_seconds_heard,
        )


def _top(counts: dict[str, int], n: int = 8) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def charts_of(report: Report) -> dict[str, Markup]:
    completion = report.listening.completion
    return {
        **{
            name: charts.columns(
                f"{label} per day", [(d.date, getattr(d, name)) for d in report.daily]
            )
            for name, label in DAILY_SERIES
        },
        "sources": charts.bars(
            "Views by source", _top({k: v.views for k, v in report.by_source.items()})
        ),
        "devices": charts.bars("Engagements by device", _top(report.devices.by_device_class)),
        "browsers": charts.bars("Engagements by browser", _top(report.devices.by_browser)),
        "completion": charts.bars(
            "Plays that reached each point of the track",
            [
                ("25 %", completion.reached_25),
                ("50 %", completion.reached_50),
                ("75 %", completion.reached_75),
                ("100 %", completion.reached_100),
            ],
        ),
    }


def render_report(report: Report) -> str:
    """The analytics fragment of a page (templates/app/_report.html)."""
    return ENVIRONMENT.get_template("app/_report.html").render(
        report=report,
        summary=Summary.of(report),
        charts=charts_of(report),
        daily_series=DAILY_SERIES,
    )
