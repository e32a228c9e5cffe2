"""The dashboard's live stream and charts, without a stack: one poller per link however
many pages watch it, only the newest fragment kept for a slow page, the poller gone with
the last page; charts that say their numbers in text."""

from __future__ import annotations

import asyncio
from datetime import date

from contracts.errors import ErrorCode
from gateway.dashboard import charts
from gateway.dashboard.live import LiveReports
from servicekit.errors import ApiError


class Analytics:
    """Stands in for the report read (an HTTP call in the gateway): counts the calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.views = 0
        self.down = False

    async def fetch(self, link_id: str) -> bytes:
        self.calls += 1
        if self.down:
            raise ApiError(ErrorCode.SERVICE_UNAVAILABLE, "down")
        return f"{link_id}:{self.views}".encode()


async def test_many_pages_share_one_poller_and_see_each_change() -> None:
    analytics = Analytics()
    live = LiveReports(analytics.fetch, lambda body: body.decode(), 0.01)
    streams = [live.subscribe("l1").__aiter__() for _ in range(25)]
    firsts = await asyncio.gather(*(anext(s) for s in streams))
    assert set(firsts) == {"l1:0"}
    assert live.pollers == 1
    calls = analytics.calls
    await asyncio.sleep(0.1)
    assert analytics.calls - calls <= 15  # about one read per tick for all 25 pages
    analytics.views = 1
    assert set(await asyncio.gather(*(anext(s) for s in streams))) == {"l1:1"}
    for stream in streams:
        await stream.aclose()  # type: ignore[attr-defined]
    assert live.pollers == 0
    calls = analytics.calls
    await asyncio.sleep(0.05)
    assert analytics.calls == calls  # no one watches: no reads
    await live.close()


async def test_a_down_analytics_skips_rounds_and_a_slow_page_gets_the_newest() -> None:
    analytics = Analytics()
    live = LiveReports(analytics.fetch, lambda body: body.decode(), 0.01)
    stream = live.subscribe("l2").__aiter__()
    assert await anext(stream) == "l2:0"
    analytics.down = True
    await asyncio.sleep(0.05)
    analytics.down = False
    for views in (1, 2, 3):  # the page reads nothing meanwhile
        analytics.views = views
        await asyncio.sleep(0.03)
    assert await anext(stream) == "l2:3"
    await live.close()
    assert await anext(stream, "ended") == "ended"


def test_charts_name_themselves_and_write_every_number() -> None:
    svg = charts.bars("Views by source", [("twitter", 8), ("<mail>", 3)])
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert ">8</text>" in svg and ">3</text>" in svg
    assert "&lt;mail&gt;" in svg and "<mail>" not in svg
    assert "twitter: 8; &lt;mail&gt;: 3" in svg
    days = charts.columns("Views per day", [(date(2026, 1, d), d) for d in range(1, 8)])
    assert "7 over 7 days" not in days and "28 over 7 days" in days
    assert "most on 2026-01-07 (7)" in days
    assert days.count('class="bar"') == 7
    assert "style=" not in svg + days  # the CSP allows no inline style
