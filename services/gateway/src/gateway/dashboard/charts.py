"""Charts as server-side SVG: no script, no third-party library, nothing to load.

Each chart is an `<svg role="img">` named by its `<title>` and described by a `<desc>` that
says what it shows in words; every bar carries its number as text, so nothing is told by
colour alone, and the page puts the same numbers in a real `<table>` beside it. Colours
come from the stylesheet (`.chart …` classes): the strict CSP allows no inline style."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

_ids = itertools.count(1)

BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 140
PLOT_WIDTH = 420
VALUE_WIDTH = 60
MAX_COLUMN = 28


SVG = Markup(
    '<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
    'aria-labelledby="chart-{n}-t chart-{n}-d" xmlns="http://www.w3.org/2000/svg">'
    '<title id="chart-{n}-t">{title}</title><desc id="chart-{n}-d">{desc}</desc>{body}</svg>'
)


def _svg(width: int, height: int, title: str, desc: str, parts: list[str]) -> Markup:
    """`parts`: SVG elements made here from numbers and escaped text only."""
    body = Markup("").join(Markup(part) for part in parts)  # noqa: S704 - built above
    return SVG.format(w=width, h=height, n=next(_ids), title=title, desc=desc, body=body)


def bars(title: str, rows: Sequence[tuple[str, int]], unit: str = "") -> Markup:
    """Horizontal bars, one per labelled count, each with its number written at its end."""
    top = max((value for _, value in rows), default=0)
    height = max(1, len(rows)) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP
    width = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH
    parts = []
    for i, (label, value) in enumerate(rows):
        y = BAR_GAP + i * (BAR_HEIGHT + BAR_GAP)
        length = 0 if top == 0 else round(PLOT_WIDTH * value / top)
        text_y = y + BAR_HEIGHT * 0.7
        parts.append(
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{text_y:.0f}" text-anchor="end">'
            f"{escape(label[:24])}</text>"
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{max(length, 1)}" '
            f'height="{BAR_HEIGHT}" rx="3"></rect>'
            f'<text class="value" x="{LABEL_WIDTH + length + 6}" y="{text_y:.0f}">'
            f"{value:,}{escape(unit)}</text>"
        )
    if not rows:
        parts.append(f'<text class="label" x="8" y="{BAR_GAP + 14}">Nothing yet</text>')
    described = "; ".join(f"{label}: {value:,}{unit}" for label, value in rows) or "nothing yet"
    return _svg(width, height, title, f"{title}. {described}.", parts)


def columns(title: str, days: Sequence[tuple[date, int]]) -> Markup:
    """One column per day, the tallest labelled with its number, the first and last day
    written under the axis (the table beside it has every day)."""
    width, height, bottom, left = 620, 170, 140, 40
    plot = width - left - 10
    top = max((value for _, value in days), default=0)
    step = plot / max(1, len(days))
    parts = [
        f'<line class="axis" x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}"></line>',
        f'<text class="label" x="{left - 6}" y="{bottom}" text-anchor="end">0</text>',
    ]
    if top:
        parts.append(f'<text class="label" x="{left - 6}" y="24" text-anchor="end">{top:,}</text>')
    for i, (_, value) in enumerate(days):
        h = 0 if top == 0 else (bottom - 20) * value / top
        bar = min(max(step * 0.7, 1), MAX_COLUMN)
        x = left + i * step + (step - bar) / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{bottom - h:.1f}" '
            f'width="{bar:.1f}" height="{h:.1f}"></rect>'
        )
    if days:
        parts.append(
            f'<text class="label" x="{left}" y="{bottom + 18}">{days[0][0].isoformat()}</text>'
            f'<text class="label" x="{width - 10}" y="{bottom + 18}" text-anchor="end">'
            f"{days[-1][0].isoformat()}</text>"
        )
    total = sum(value for _, value in days)
    busiest = max(days, key=lambda d: d[1], default=None)
    desc = f"{title}: {total:,} over {len(days)} days"
    if busiest is not None and busiest[1] > 0:
        desc += f", most on {busiest[0].isoformat()} ({busiest[1]:,})"
    return _svg(width, height, title, desc + ".", parts)
