"""Live link pages: one poller per watched link, however many pages have it open.

A page opens `/app/links/{id}/events` (Server-Sent Events). The first subscriber to a link
starts its poller, which reads the link's report from analytics every
`dashboard_live_poll_seconds` and, when it changed, renders the analytics fragment once and
hands the same text to every subscriber (each keeps only the newest: a slow page skips
versions, it never queues them). The last one to leave stops it. Analytics failing just
skips a round (the page keeps what it shows and says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from servicekit.errors import ApiError

log = logging.getLogger(__name__)

# what a poller reads: the link's report as bytes, and its rendering as a fragment
Fetch = Callable[[str], Awaitable[bytes]]
Render = Callable[[bytes], str]

HEARTBEAT_SECONDS = 15.0
CLOSED = ""  # sent to every subscriber when the gateway stops


@dataclass
class _Watch:
    subscribers: set[asyncio.Queue[str]] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    last: bytes | None = None
    latest: str | None = None  # the newest fragment, for a page that joins late


class LiveReports:
    def __init__(self, fetch: Fetch, render: Render, every_seconds: float) -> None:
        self._fetch = fetch
        self._render = render
        self._every = every_seconds
        self._watches: dict[str, _Watch] = {}
        self._closed = False

    @property
    def pollers(self) -> int:
        return sum(1 for w in self._watches.values() if w.task is not None)

    async def subscribe(self, link_id: str) -> AsyncIterator[str | None]:
        """Fragments as they change; None now and then (a heartbeat, so a dead connection
        is noticed); ends when the gateway stops."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1)
        watch = self._watches.setdefault(link_id, _Watch())
        watch.subscribers.add(queue)
        if watch.latest is not None:  # what changed since this page was rendered, if anything
            _offer(queue, watch.latest)
        if watch.task is None:
            watch.task = asyncio.create_task(self._poll(link_id, watch), name=f"live-{link_id}")
        try:
            while not self._closed:
                try:
                    fragment = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield None
                    continue
                if fragment == CLOSED:
                    return
                yield fragment
        finally:
            watch.subscribers.discard(queue)
            if not watch.subscribers and self._watches.get(link_id) is watch:
                del self._watches[link_id]
                if watch.task is not None:
                    watch.task.cancel()

    async def _poll(self, link_id: str, watch: _Watch) -> None:
        while True:
            try:
                body = await self._fetch(link_id)
            except ApiError as exc:
                log.info("live report of a link skipped a round: %s", exc.code)
            else:
                if body != watch.last:
                    watch.last = body
                    watch.latest = self._render(body)
                    for queue in list(watch.subscribers):
                        _offer(queue, watch.latest)
            await asyncio.sleep(self._every)

    async def close(self) -> None:
        self._closed = True
        for watch in list(self._watches.values()):
            for queue in list(watch.subscribers):
                _offer(queue, CLOSED)
            if watch.task is not None:
                watch.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watch.task


def _offer(queue: asyncio.Queue[str], item: str) -> None:
    """Keep only the newest item."""
    with contextlib.suppress(asyncio.QueueEmpty):
        queue.get_nowait()
    queue.put_nowait(item)
