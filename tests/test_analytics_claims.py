"""The facts' key is the claim: the same events applied twice, even at the same time (two
consumers holding a partition during a rebalance), count once. The unique-visitor counter
that ingest keeps beside the claim stays equal to the visitors actually stored. On the
suite's Postgres."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid

from analytics.db.apply import apply_batch
from analytics.domain.events import Event, from_envelope
from contracts.events import ShareClicked, TrackPlayed, Visitor, wrap
from devstack.suite import Suite
from servicekit.db import make_engine, make_sessionmaker
from tests.conftest import run_sql
from tests.test_events_pipeline import link_stats


def clicks(link_id: str, count: int) -> list[Event]:
    return clicks_by(link_id, [f"v{i}" for i in range(count)])


def clicks_by(link_id: str, visitors: list[str]) -> list[Event]:
    """One new event (its own id) per visitor named, repeats included."""
    return [
        from_envelope(
            wrap(
                ShareClicked(link_id=link_id, link_kind="track", visitor=Visitor(visitor_id=v)),
                producer="test",
            )
        )
        for v in visitors
    ]


def new_link() -> str:
    return "mslink_" + uuid.uuid4().hex[:12]


def stored_visitors(suite: Suite, link_id: str) -> int:
    """The ground truth the counter must equal: the link's rows in `link_visitors`."""
    rows = run_sql(
        suite.infra.database_url,
        "select count(*) from analytics.link_visitors where link_id = $1",
        link_id,
    )
    return int(rows[0][0])


def apply_concurrently(
    database_url: str, *batches: list[Event], window_seconds: float | None = None
) -> list[int]:
    """Each batch in its own transaction on its own connection, all started together."""

    async def run() -> list[int]:
        engine = make_engine(database_url, pool_size=len(batches))
        sessions = make_sessionmaker(engine)

        async def one(batch: list[Event]) -> int:
            async with sessions() as session, session.begin():
                return await apply_batch(session, batch, window_seconds=window_seconds)

        try:
            return list(await asyncio.gather(*(one(batch) for batch in batches)))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_the_same_batch_applied_by_two_consumers_at_once_counts_once(suite: Suite) -> None:
    link_id = "mslink_" + uuid.uuid4().hex[:12]
    batch = clicks(link_id, 40)
    applied = apply_concurrently(suite.infra.database_url, batch, batch)
    assert sorted(applied) == [0, 40]
    stats = link_stats(suite, link_id)
    assert (stats["views"], stats["unique_visitors"]) == (40, 40)


def test_a_batch_partly_applied_before_applies_only_the_rest(suite: Suite) -> None:
    link_id = "mslink_" + uuid.uuid4().hex[:12]
    events = clicks(link_id, 30)
    assert apply_concurrently(suite.infra.database_url, events[:20]) == [20]
    assert apply_concurrently(suite.infra.database_url, events[10:]) == [10]  # 10 seen, 10 new
    stats = link_stats(suite, link_id)
    assert (stats["views"], stats["unique_visitors"]) == (30, 30)


def test_unique_visitors_count_each_visitor_once_across_batches_and_redeliveries(
    suite: Suite,
) -> None:
    link_id = new_link()
    url = suite.infra.database_url
    first = clicks_by(link_id, ["a", "a", "b"])  # a repeated within one batch
    second = clicks_by(link_id, ["b", "c"])  # b seen in an earlier batch
    assert apply_concurrently(url, first) == [3]
    assert apply_concurrently(url, second) == [2]
    assert apply_concurrently(url, second) == [0]  # redelivered whole
    assert apply_concurrently(url, [*first, *clicks_by(link_id, ["a", "d"])]) == [2]  # partly
    stats = link_stats(suite, link_id)
    assert (stats["views"], stats["unique_visitors"]) == (7, 4)
    assert stored_visitors(suite, link_id) == 4


def test_two_consumers_adding_the_same_new_visitors_at_once_count_them_once(
    suite: Suite,
) -> None:
    link_id = new_link()
    visitors = [f"v{i}" for i in range(40)]
    # different events (ids) from the same visitors, on two connections at the same time
    applied = apply_concurrently(
        suite.infra.database_url, clicks_by(link_id, visitors), clicks_by(link_id, visitors)
    )
    assert applied == [40, 40]
    stats = link_stats(suite, link_id)
    assert (stats["views"], stats["unique_visitors"]) == (80, 40)
    assert stored_visitors(suite, link_id) == 40


def test_a_link_whose_plays_all_fell_in_a_dedupe_window_still_counts_its_visitors(
    suite: Suite,
) -> None:
    counted_link, deduped_link = new_link(), new_link()
    track = "mtrack_" + uuid.uuid4().hex[:12]

    def play(link_id: str) -> Event:
        played = TrackPlayed(link_id=link_id, track_id=track, visitor=Visitor(visitor_id="fan"))
        return from_envelope(wrap(played, producer="test"))

    url = suite.infra.database_url
    assert apply_concurrently(url, [play(counted_link)], window_seconds=3600) == [1]
    assert apply_concurrently(url, [play(deduped_link)], window_seconds=3600) == [1]
    stats = link_stats(suite, deduped_link)
    assert (stats["plays"], stats["unique_visitors"]) == (0, 1)
    assert link_stats(suite, counted_link)["plays"] == 1


def test_recount_repairs_counters_that_an_older_consumer_left_behind(suite: Suite) -> None:
    link_id, without_row = new_link(), new_link()
    url = suite.infra.database_url
    apply_concurrently(url, clicks(link_id, 3))
    # what a consumer of the release before the counter does: visitors in, counter untouched
    run_sql(
        url,
        "insert into analytics.link_visitors (link_id, visitor_key, first_seen)"
        " values ($1, 'v:old', now()), ($2, 'v:old', now())",
        link_id,
        without_row,
    )
    assert link_stats(suite, link_id)["unique_visitors"] == 3
    recount = subprocess.run(
        [sys.executable, "-m", "analytics.cli", "recount-unique-visitors"],
        env={**os.environ, **suite.env()},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(recount.stdout)["links_corrected"] >= 2
    assert link_stats(suite, link_id)["unique_visitors"] == 4 == stored_visitors(suite, link_id)
    assert link_stats(suite, without_row)["unique_visitors"] == 1
