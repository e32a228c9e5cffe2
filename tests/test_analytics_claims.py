"""The facts' key is the claim: the same events applied twice, even at the same time (two
consumers holding a partition during a rebalance), count once. On the suite's Postgres."""

from __future__ import annotations

import asyncio
import uuid

from analytics.db.apply import apply_batch
from analytics.domain.events import Event, from_envelope
from contracts.events import ShareClicked, Visitor, wrap
from devstack.suite import Suite
from servicekit.db import make_engine, make_sessionmaker
from tests.test_events_pipeline import link_stats


def clicks(link_id: str, count: int) -> list[Event]:
    return [
        from_envelope(
            wrap(
                ShareClicked(
                    link_id=link_id, link_kind="track", visitor=Visitor(visitor_id=f"v{i}")
                ),
                producer="test",
            )
        )
        for i in range(count)
    ]


def apply_concurrently(database_url: str, *batches: list[Event]) -> list[int]:
    """Each batch in its own transaction on its own connection, all started together."""

    async def run() -> list[int]:
        engine = make_engine(database_url, pool_size=len(batches))
        sessions = make_sessionmaker(engine)

        async def one(batch: list[Event]) -> int:
            async with sessions() as session, session.begin():
                return await apply_batch(session, batch)

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
