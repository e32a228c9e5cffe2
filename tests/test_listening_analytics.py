"""Listening analytics on the real stack (SPEC §9): beacons published to `track.listened` as
the gateway records them, previews to `share.previewed`; the reports, the shares list and
the CSV export read what analytics made of them. Plus migration 0006 on old data."""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from analytics.db.migrate import MIGRATIONS
from analytics.db.stats import Scope
from analytics.service.reports import scope_activity
from contracts.events import (
    Device,
    Payload,
    ShareClicked,
    SharePreviewed,
    TrackListened,
    TrackPlayed,
    Visitor,
    wrap,
)
from devstack.infra import Infrastructure
from devstack.suite import Suite
from servicekit.db import make_engine, make_sessionmaker
from servicekit.migrations import alembic_config
from tests.conftest import Artist, assert_error, eventually, link_stats, run_sql, upload
from tests.test_events_pipeline import publish

CHROME = Device(browser="Chrome", os="Mac OS X", device_class="desktop")
SAFARI = Device(browser="Mobile Safari", os="iOS", device_class="mobile")


def send(suite: Suite, *payloads: Payload, copies: int = 1) -> None:
    """Each payload as one envelope on its topic (`copies` times the same event)."""
    by_topic: dict[str, list[tuple[bytes, bytes]]] = {}
    for payload in payloads:
        raw = wrap(payload, producer="test").model_dump_json().encode()
        by_topic.setdefault(payload.TOPIC, []).extend([(payload.key().encode(), raw)] * copies)
    for topic, values in by_topic.items():
        publish(suite.infra.kafka_bootstrap, topic, values)


def shared_link(api: httpx.Client, artist: Artist) -> tuple[str, str]:
    track = upload(api, artist, ready=False)
    link = api.post(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/share", headers=artist.headers
    ).json()
    return str(track["id"]), str(link["id"])


def listened(link: str, track: str, play: str, visitor: Visitor, *spans: Any, **kw: Any) -> Any:
    return TrackListened(
        link_id=link,
        link_kind="track",
        track_id=track,
        play_id=play,
        intervals=tuple(spans),
        duration_seconds=kw.get("duration", 180.0),
        visitor=visitor,
    )


@pytest.fixture
def listened_link(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> tuple[Artist, Artist, str, str]:
    """A link with three plays, two previews and two views, all applied by analytics."""
    artist, fan = new_artist(), new_artist()
    track, link = shared_link(api, artist)
    anon = Visitor(visitor_id="v-anon-" + secrets.token_hex(3), session_id="s1", device=SAFARI)
    signed = Visitor(
        user_id=fan.user_id,
        user_handle=fan.handle,
        user_display_name=f"Artist {fan.handle}",
        visitor_id="v-fan",
        device=CHROME,
    )
    # p1: 29 s of a 3-minute track, with a seek back (5-15 heard again), out of order
    send(
        suite,
        listened(link, track, "p1", anon, (10, 20)),
        listened(link, track, "p1", anon, (0, 10)),
    )
    send(suite, listened(link, track, "p1", anon, (5, 15)))
    send(suite, listened(link, track, "p1", anon, (20, 29)), copies=2)  # one beacon sent twice
    # p2: the fan, 100 s; p3: the anonymous visitor again, the whole track
    send(suite, listened(link, track, "p2", signed, (0, 40), (30, 100)))
    send(
        suite,
        listened(link, track, "p3", anon, (0, 90)),
        listened(link, track, "p3", anon, (90, 180)),
    )
    send(
        suite,
        SharePreviewed(link_id=link, link_kind="track", reason="preview_fetcher"),
        SharePreviewed(
            link_id=link,
            link_kind="track",
            reason="bot",
            visitor=Visitor(visitor_id="crawler", device=Device(device_class="bot")),
        ),
        ShareClicked(link_id=link, link_kind="track", visitor=anon),
        ShareClicked(link_id=link, link_kind="track", visitor=Visitor(visitor_id="old-client")),
        TrackPlayed(link_id=link, track_id=track, visitor=signed),  # the fan's playback URL
    )
    url = f"/v1/music/{artist.organization_id}/shares/{link}/analytics"
    eventually(
        lambda: (
            (r := api.get(url, headers=artist.headers).json())["listening"]["play_starts"] == 3
            and r["excluded"]["previews"] == 2
            and r["totals"]["views"] == 2
            and r["totals"]["plays"] == 1
            and r["listening"]["completion"]["reached_100"] == 1
        ),
        timeout=30,
    )
    return artist, fan, track, link


def test_a_link_report_says_what_was_heard_by_whom(
    api: httpx.Client, listened_link: tuple[Artist, Artist, str, str]
) -> None:
    artist, fan, track, link = listened_link
    report = api.get(
        f"/v1/music/{artist.organization_id}/shares/{link}/analytics", headers=artist.headers
    ).json()
    assert report["listening"] == {
        "play_starts": 3,
        "qualified_plays": 2,  # 29 s of 180 s is a start only; 100 s and 180 s qualify
        "average_seconds_heard": round((29 + 100 + 180) / 3, 1),
        "completion": {"reached_25": 2, "reached_50": 2, "reached_75": 1, "reached_100": 1},
    }, "a seek back and a beacon sent twice add nothing"
    depth = {d["listener"]: d for d in report["listener_depth"]}
    assert depth[fan.handle] == {
        "listener": fan.handle,
        "signed_in": True,
        "display_name": f"Artist {fan.handle}",
        "track_id": track,
        "plays": 1,
        "seconds_heard": 100.0,
        "furthest_seconds": 100.0,
        "completion": 0.556,
    }
    (anonymous,) = [d for d in report["listener_depth"] if not d["signed_in"]]
    assert anonymous["listener"].startswith("anonymous-") and "v-anon" not in anonymous["listener"]
    assert (anonymous["plays"], anonymous["seconds_heard"], anonymous["completion"]) == (
        2,
        180.0,
        1.0,
    ), "the union over its two plays, not their sum (209 s)"
    assert report["listener_depth"][0] == anonymous, "most heard first"
    today_only = api.get(
        f"/v1/music/{artist.organization_id}/shares/{link}/analytics",
        headers=artist.headers,
        params={"from": datetime.now(UTC).date().isoformat()},
    ).json()
    assert today_only["listener_depth"] == report["listener_depth"], (
        "a range's depth (from its plays) equals the all-time depth ingest keeps"
    )
    assert report["excluded"] == {"previews": 2, "by_reason": {"preview_fetcher": 1, "bot": 1}}
    assert report["totals"]["views"] == 2 and report["unique_visitors"] == 3, (
        "previews are neither views nor visitors (the anonymous one, old-client, the fan)"
    )
    assert report["devices"] == {
        "by_browser": {"Mobile Safari": 1, "unknown": 1, "Chrome": 1},
        "by_os": {"iOS": 1, "unknown": 1, "Mac OS X": 1},
        "by_device_class": {"mobile": 1, "unknown": 1, "desktop": 1},
    }, "people's engagements only: the bot's preview is not among them"
    today = datetime.now(UTC).date().isoformat()
    assert [d["qualified_plays"] for d in report["daily"] if d["date"] == today] == [2]
    listed = link_stats(api, artist, link)
    assert (listed["views"], listed["qualified_plays"], listed["previews"]) == (2, 2, 2)


def test_the_track_report_has_depth_and_devices_too(
    api: httpx.Client, listened_link: tuple[Artist, Artist, str, str]
) -> None:
    artist, _, track, _ = listened_link
    report = api.get(
        f"/v1/music/{artist.organization_id}/tracks/{track}/analytics", headers=artist.headers
    ).json()
    assert report["listening"]["play_starts"] == 3 and report["listening"]["qualified_plays"] == 2
    assert len(report["listener_depth"]) == 2
    assert report["devices"]["by_device_class"] == {"desktop": 1}, "the fan's play"
    assert report["excluded"]["previews"] == 0, "previews are of links, not in a track's facts"


def test_the_csv_of_a_range_equals_the_report(
    api: httpx.Client,
    new_artist: Callable[[], Artist],
    listened_link: tuple[Artist, Artist, str, str],
) -> None:
    artist, _, _, link = listened_link
    today = datetime.now(UTC).date().isoformat()
    base = f"/v1/music/{artist.organization_id}/shares/{link}/analytics"
    dates = {"from": today, "to": today}
    report = api.get(base, headers=artist.headers, params=dates).json()
    response = api.get(base + ".csv", headers=artist.headers, params=dates)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    # a range that ends before it starts is refused, in the envelope, report and CSV alike
    ends_before_it_starts = {"from": today, "to": "2000-01-01"}
    for url in (base, base + ".csv"):
        refused = api.get(url, headers=artist.headers, params=ends_before_it_starts)
        assert_error(refused, 422, "VALIDATION_ERROR")
        assert "from" in refused.json()["error"]["details"]["fields"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and list(rows[0]) == [
        "time",
        "kind",
        "counted",
        "link_id",
        "track_id",
        "source",
        "browser",
        "os",
        "device_class",
        "listener",
        "seconds_heard",
        "qualified",
        "preview_reason",
    ]
    counted = Counter(r["kind"] for r in rows if r["counted"] == "true")
    assert counted["view"] == report["totals"]["views"]
    assert counted["play"] == report["totals"]["plays"]
    assert counted["preview"] == report["excluded"]["previews"]
    listens = [r for r in rows if r["kind"] == "listen"]
    assert len(listens) == report["listening"]["play_starts"]
    assert sum(r["qualified"] == "true" for r in listens) == report["listening"]["qualified_plays"]
    heard = sum(float(r["seconds_heard"]) for r in listens) / len(listens)
    assert round(heard, 1) == report["listening"]["average_seconds_heard"]
    assert {r["listener"] for r in listens} == {d["listener"] for d in report["listener_depth"]}
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    future = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    empty = api.get(base + ".csv", headers=artist.headers, params={"from": future, "to": future})
    assert empty.text.count("\n") == 1, "the header row alone"
    stranger = new_artist()
    other = f"/v1/music/{stranger.organization_id}/shares/{link}/analytics.csv"
    assert api.get(other, headers=stranger.headers).status_code == 404, "owner-only"
    backwards = api.get(base + ".csv", headers=artist.headers, params={"from": future, "to": today})
    assert backwards.status_code == 422


def test_old_plays_are_starts_without_depth(
    suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """A `track.played` (a playback URL issued) still counts in `totals.plays`; only beacons
    make listening starts after migration 0006."""
    artist = new_artist()
    track, link = shared_link(api, artist)
    send(suite, TrackPlayed(link_id=link, track_id=track, visitor=Visitor(visitor_id="x")))
    url = f"/v1/music/{artist.organization_id}/shares/{link}/analytics"
    report = eventually(
        lambda: (r := api.get(url, headers=artist.headers).json())["totals"]["plays"] and r
    )
    assert report["listening"]["play_starts"] == 0


@pytest.fixture
def empty_database(infra: Infrastructure) -> Iterator[str]:
    name = "an_migration_" + secrets.token_hex(4)
    run_sql(infra.database_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(infra.database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        run_sql(infra.database_url, f'DROP DATABASE "{name}" WITH (FORCE)')


OLD_FACT = """
    insert into analytics.engagement_facts (event_id, type, link_id, link_kind, track_id,
      pack_id, visitor_key, listener_key, counted, source, occurred_at)
    values ($1, $2, 'l1', 'pack', 't1', 'p1', 'v:a', 'v:a', $3, 'twitter',
      timestamptz '2026-01-05 10:00:00+00')"""


def test_migration_0006_keeps_old_plays_as_starts_without_depth(empty_database: str) -> None:
    config = alembic_config(MIGRATIONS, empty_database)
    command.upgrade(config, "0005")
    for kind, counted in [
        ("track.played", True),
        ("track.played", True),
        ("track.played", False),
        ("share.clicked", True),
    ]:
        run_sql(empty_database, OLD_FACT, uuid.uuid4(), kind, counted)
    run_sql(
        empty_database,
        "insert into analytics.link_stats (link_id, views, plays) values ('l1', 1, 2)",
    )
    command.upgrade(config, "head")

    rows = run_sql(
        empty_database,
        "select scope, scope_id, day::text, play_starts, depth_plays, qualified_plays"
        " from analytics.listening_daily order by scope",
    )
    assert [tuple(r) for r in rows] == [
        ("link", "l1", "2026-01-05", 2, 0, 0),
        ("pack", "p1", "2026-01-05", 2, 0, 0),
        ("track", "t1", "2026-01-05", 2, 0, 0),
    ], "two counted plays: two starts without depth, per scope"
    (stats,) = run_sql(
        empty_database, "select views, plays, qualified_plays, previews from analytics.link_stats"
    )
    assert tuple(stats) == (1, 2, 0, 0), "existing counters keep their meaning"

    async def link_report() -> Any:
        engine = make_engine(empty_database, pool_size=1)
        try:
            async with make_sessionmaker(engine)() as session:
                return await scope_activity(session, Scope("link_id", "l1", None, None))
        finally:
            await engine.dispose()

    activity = asyncio.run(link_report())
    assert activity.totals.plays == 2 and activity.totals.views == 1
    assert activity.listening.play_starts == 2 and activity.listening.qualified_plays == 0
    assert activity.listening.average_seconds_heard == 0.0, "no depth: not averaged as 0 s"
    assert activity.devices.by_browser == {"unknown": 3}, "old facts have no device"
    assert activity.excluded.previews == 0
    command.downgrade(config, "0005")  # reversible
    command.upgrade(config, "head")
