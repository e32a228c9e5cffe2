"""Analytics in process on a real Postgres: its consumer's handler (plain aiokafka, not a
FastStream subscriber, so its decode and transaction steps are driven directly with the
records aiokafka would hand it) and its own app's stats routes over what that stored.
Dead letters go through the FastStream broker the consumer is given, here a
`TestKafkaBroker`; no Kafka, no other service."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord, TopicPartition
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics.app import create_app
from analytics.context import AnalyticsContext
from analytics.events.consumer import Ingest
from analytics.service.rollups import rebuild_rollups
from analytics.settings import AnalyticsSettings
from contracts import topics
from contracts.events import EventEnvelope, PackViewed, TrackPlayed, Visitor, wrap


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> AnalyticsSettings:
    return AnalyticsSettings(**service_settings)


@pytest.fixture
async def api(settings: AnalyticsSettings, in_process: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(create_app(settings)) as client:
        client.headers.update(internal_headers())
        yield client


def internal_headers() -> dict[str, str]:
    return {"X-Internal-Token": "dev-internal-token"}


@pytest.fixture
async def broker(settings: AnalyticsSettings) -> AsyncIterator[KafkaBroker]:
    broker = KafkaBroker(settings.kafka_bootstrap)
    async with TestKafkaBroker(broker) as test_broker:
        yield test_broker


@pytest.fixture
async def ingest(
    broker: KafkaBroker,
    settings: AnalyticsSettings,
    sessions: async_sessionmaker[AsyncSession],
) -> Ingest:
    return Ingest(broker, settings, sessions)


offsets = iter(range(10**9))


def records(*values: bytes, topic: str = topics.PACK_VIEWED) -> dict[TopicPartition, list[Any]]:
    """The batch aiokafka's `getmany` would return for these values (one partition)."""
    batch = [
        ConsumerRecord(
            topic, 0, next(offsets), 0, 0, None, value, None, 0, len(value), [("x", b"1")]
        )
        for value in values
    ]
    return {TopicPartition(topic, 0): batch}


def encoded(*envelopes: EventEnvelope[Any]) -> list[bytes]:
    return [e.model_dump_json().encode() for e in envelopes]


async def consume(ingest: Ingest, batch: dict[TopicPartition, list[Any]]) -> int:
    """One round of the consumer's loop without Kafka: decode, then the transaction."""
    events, origin = await ingest.decode(batch)
    return await ingest.transact(events, origin) if events else 0


def view(link: str, pack: str, visitor: str, source: str = "twitter") -> EventEnvelope[Any]:
    return wrap(
        PackViewed(
            link_id=link,
            link_kind="pack",
            pack_id=pack,
            organization_id="org_a",
            link_owner_id="usr_owner",
            visitor=Visitor(visitor_id=visitor, session_id=f"s-{visitor}", source=source),
        ),
        producer="sharing",
    )


def play(link: str, track: str, visitor: str) -> EventEnvelope[Any]:
    return wrap(
        TrackPlayed(
            link_id=link,
            link_kind="track",
            track_id=track,
            organization_id="org_a",
            link_owner_id="usr_owner",
            duration_seconds=200.0,
            visitor=Visitor(visitor_id=visitor, session_id=f"s-{visitor}", source="email"),
        ),
        producer="sharing",
    )


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


async def link_stats(api: httpx.AsyncClient, *link_ids: str) -> dict[str, Any]:
    response = await api.get("/internal/stats/links", params={"ids": ",".join(link_ids)})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_views_are_counted_once_each_and_a_redelivered_batch_adds_nothing(
    ingest: Ingest, api: httpx.AsyncClient
) -> None:
    link, pack = new_id("lnk"), new_id("pck")
    batch = encoded(view(link, pack, "v1"), view(link, pack, "v2"), view(link, pack, "v1"))
    assert await consume(ingest, records(*batch)) == 3
    expected = {"views": 3, "unique_visitors": 2}
    stats = (await link_stats(api, link))[link]
    assert {key: stats[key] for key in expected} == expected

    # the same records again (a crash before the offsets were committed)
    assert await consume(ingest, records(*batch)) == 0
    again = (await link_stats(api, link))[link]
    assert again == stats


async def test_a_poison_message_is_dead_lettered_and_the_rest_of_its_batch_applies(
    ingest: Ingest, broker: KafkaBroker, api: httpx.AsyncClient
) -> None:
    dead: list[KafkaMessage] = []

    @broker.subscriber(topics.dead_letter_topic(topics.PACK_VIEWED))
    async def capture(message: KafkaMessage) -> None:
        dead.append(message)

    await broker.start()
    link, pack = new_id("lnk"), new_id("pck")
    good = encoded(view(link, pack, "v1"))[0]
    assert await consume(ingest, records(b'{"type": "pack.viewed"}', good)) == 1
    assert (await link_stats(api, link))[link]["views"] == 1
    assert [m.body for m in dead] == [b'{"type": "pack.viewed"}']
    assert dead[0].headers["dlq-original-topic"] == topics.PACK_VIEWED
    assert dead[0].headers["x"] == "1", "the original headers travel with it"


async def test_a_link_report_over_seeded_views(ingest: Ingest, api: httpx.AsyncClient) -> None:
    link, pack = new_id("lnk"), new_id("pck")
    views = [view(link, pack, "v1"), view(link, pack, "v2", source="email")]
    await consume(ingest, records(*encoded(*views)))
    today = datetime.now(UTC).date().isoformat()

    report = await api.get(f"/internal/stats/links/{link}", params={"from": today, "to": today})
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["totals"]["views"] == 2
    assert (body["unique_visitors"], body["unique_sessions"]) == (2, 2)
    assert (body["from"], body["to"]) == (today, today)
    assert {source: c["views"] for source, c in body["by_source"].items()} == {
        "twitter": 1,
        "email": 1,
    }
    assert [d["views"] for d in body["daily"]] == [2]

    pack_report = await api.get(f"/internal/stats/packs/{pack}")
    assert pack_report.status_code == 200
    assert pack_report.json()["totals"]["views"] == 2


async def test_a_track_report_names_the_links_its_plays_came_through(
    ingest: Ingest, api: httpx.AsyncClient
) -> None:
    track, first, second = new_id("trk"), new_id("lnk"), new_id("lnk")
    plays = [play(first, track, "v1"), play(second, track, "v2"), play(second, track, "v3")]
    await consume(ingest, records(*encoded(*plays), topic=topics.TRACK_PLAYED))
    report = await api.get(f"/internal/stats/tracks/{track}")
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["totals"]["plays"] == 3
    by_link = {row["link_id"]: row["plays"] for row in body["by_link"]}
    assert by_link == {first: 1, second: 2}


async def test_stats_of_unknown_links_are_zero_and_bad_ranges_are_refused(
    api: httpx.AsyncClient,
) -> None:
    unknown = new_id("lnk")
    assert (await link_stats(api, unknown))[unknown]["views"] == 0
    backwards = await api.get(
        f"/internal/stats/links/{unknown}", params={"from": "2026-02-02", "to": "2026-02-01"}
    )
    assert backwards.status_code == 422
    assert "from" in backwards.json()["error"]["details"]["fields"]
    too_many = await api.get("/internal/stats/links", params={"ids": ",".join(["l"] * 201)})
    assert too_many.status_code == 422


async def test_the_stats_routes_need_the_internal_credential(api: httpx.AsyncClient) -> None:
    response = await api.get("/internal/stats/links", headers={"X-Internal-Token": "wrong"})
    assert response.status_code == 401


async def test_the_kept_rollups_give_the_numbers_the_facts_give_and_a_rebuild_changes_nothing(
    ingest: Ingest,
    api: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: AnalyticsSettings,
) -> None:
    """All-time reports read the rollups ingest keeps; a range that covers everything counts
    uniques over the facts themselves. Both, and a rebuild from every fact, must agree."""
    link, pack, track = new_id("lnk"), new_id("pck"), new_id("trk")
    views = encoded(
        view(link, pack, "v1"), view(link, pack, "v2", source="email"), view(link, pack, "v1")
    )
    plays = encoded(play(link, track, "v1"), play(link, track, "v3"))
    await consume(ingest, records(*views))
    await consume(ingest, records(*views))  # redelivered: adds nothing
    await consume(ingest, records(*plays, topic=topics.TRACK_PLAYED))
    today = datetime.now(UTC).date().isoformat()

    async def reports() -> list[dict[str, Any]]:
        got = []
        for params in ({}, {"from": "2026-01-01", "to": today}):
            response = await api.get(f"/internal/stats/links/{link}", params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            got.append(
                {
                    key: body[key]
                    for key in ("totals", "unique_visitors", "unique_sessions", "by_source")
                }
                | {"anonymous": body["listeners"]["anonymous"], "daily": body["daily"][-1:]}
            )
        return got

    all_time, ranged = await reports()
    assert all_time == ranged
    assert all_time["totals"] == {"views": 3, "plays": 2, "downloads": 0, "reshares": 0}
    assert (all_time["unique_visitors"], all_time["unique_sessions"]) == (3, 3)
    assert all_time["anonymous"] == 2
    assert all_time["by_source"]["twitter"]["views"] == 2

    assert await rebuild_rollups(AnalyticsContext(settings=settings, sessions=sessions)) > 0
    assert await reports() == [all_time, ranged]
