"""Analytics on the real broker: exactly once in effect, dedupe, listeners, stats pages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from contracts import topics
from contracts.api.analytics import LinkReport, PackReport, TrackReport
from contracts.events import ShareClicked, ShareLinkLifecycle, TrackPlayed, Visitor, wrap
from devstack.suite import Suite
from tests.conftest import Artist, eventually, link_stats, upload
from tests.contract_bodies import assert_body_is, assert_documented, openapi_of
from tests.test_events_pipeline import link_stats as raw_link_stats
from tests.test_events_pipeline import publish


def shared_track(api: httpx.Client, artist: Artist) -> tuple[dict[str, Any], dict[str, Any]]:
    track = upload(api, artist)
    link = api.post(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/share", headers=artist.headers
    ).json()
    return track, link


def test_refreshing_does_not_inflate_plays(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist, fan = new_artist(), new_artist()
    _, link = shared_track(api, artist)
    play = f"/v1/public/track-links/{link['token']}/playback-url"
    for _ in range(4):
        assert api.get(play, params={"visitorId": "same"}).status_code == 200
    api.get(play, params={"visitorId": "other"})
    api.get(play, headers=fan.headers, params={"visitorId": "fan-device"})
    api.get(
        play, headers=fan.headers, params={"visitorId": "fan-laptop"}
    )  # same user, other device
    stats = eventually(
        lambda: (s := link_stats(api, artist, link["id"]))["unique_visitors"] == 4 and s
    )
    assert stats["plays"] == 3, (
        "same visitor x4 -> 1, other -> 1, one signed-in user on two devices -> 1"
    )


def test_link_report_has_listeners_sources_and_days(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist, fan = new_artist(), new_artist()
    _, link = shared_track(api, artist)
    base = f"/v1/public/track-links/{link['token']}"
    api.get(base, params={"visitorId": "a", "source": "twitter"})
    api.get(base, params={"visitorId": "b", "source": "email"})
    api.get(f"{base}/playback-url", params={"visitorId": "a", "source": "twitter"})
    api.get(
        f"{base}/playback-url", headers=fan.headers, params={"visitorId": "f", "source": "email"}
    )
    api.post(f"{base}/share-events", json={"channel": "sms"}, params={"visitorId": "b"})
    url = f"/v1/music/{artist.organization_id}/shares/{link['id']}/analytics"
    report = eventually(
        lambda: (r := api.get(url, headers=artist.headers).json())["totals"]["reshares"] == 1 and r
    )
    assert report["totals"] == {"views": 2, "plays": 2, "downloads": 0, "reshares": 1}
    assert report["unique_visitors"] == 3
    assert link_stats(api, artist, link["id"])["unique_visitors"] == 3, "the list's counter"
    assert report["listeners"]["signed_in"] == [
        {"handle": fan.handle, "display_name": f"Artist {fan.handle}", "plays": 1}
    ]
    assert report["listeners"]["anonymous"] == 1
    assert report["by_source"]["twitter"] == {"views": 1, "plays": 1, "downloads": 0, "reshares": 0}
    assert report["by_source"]["email"]["plays"] == 1
    today = datetime.now(UTC).date()
    assert report["daily"] == [
        {
            "date": today.isoformat(),
            "views": 2,
            "plays": 2,
            "downloads": 0,
            "reshares": 1,
            "qualified_plays": 0,
        }
    ]
    future = (today + timedelta(days=1)).isoformat()
    empty = api.get(url, headers=artist.headers, params={"from": future, "to": future}).json()
    assert empty["totals"] == {"views": 0, "plays": 0, "downloads": 0, "reshares": 0}
    assert empty["daily"] == [
        {
            "date": future,
            "views": 0,
            "plays": 0,
            "downloads": 0,
            "reshares": 0,
            "qualified_plays": 0,
        }
    ]
    stranger = new_artist()
    assert (
        api.get(
            f"/v1/music/{stranger.organization_id}/shares/{link['id']}/analytics",
            headers=stranger.headers,
        ).status_code
        == 404
    )


def test_pack_and_track_reports(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    track = upload(api, artist)
    pack = api.post(
        f"/v1/music/{artist.organization_id}/packs",
        headers=artist.headers,
        json={"title": "P", "track_ids": [track["id"]]},
    ).json()
    links = [
        api.post(
            f"/v1/music/{artist.organization_id}/packs/{pack['id']}/share",
            headers=artist.headers,
            json={},
        ).json()
        for _ in range(2)
    ]
    for i, link in enumerate(links):
        api.get(
            f"/v1/public/pack-links/{link['slug']}",
            params={"sessionId": "s1", "visitorId": f"v{i}"},
        )
        api.get(
            f"/v1/public/pack-links/{link['slug']}/tracks/{track['id']}/playback-url",
            params={"sessionId": "s1", "visitorId": f"v{i}"},
        )
    pack_url = f"/v1/music/{artist.organization_id}/packs/{pack['id']}/analytics"
    report = eventually(
        lambda: (
            (r := api.get(pack_url, headers=artist.headers).json())["totals"]["plays"] == 2 and r
        )
    )
    assert report["totals"]["views"] == 2
    assert report["uniqueVisitors"] == 1, "Swayzio counts sessions"
    assert report["unique_visitors"] == 2, "visitorId first"
    track_report = eventually(
        lambda: (
            (
                r := api.get(
                    f"/v1/music/{artist.organization_id}/tracks/{track['id']}/analytics",
                    headers=artist.headers,
                ).json()
            )["totals"]["plays"]
            == 2
            and r
        )
    )
    assert sorted(item["link_id"] for item in track_report["by_link"]) == sorted(
        link["id"] for link in links
    )

    # each report is its contract model, field for field, and the OpenAPI declares it
    link_report = api.get(
        f"/v1/music/{artist.organization_id}/shares/{links[0]['id']}/analytics",
        headers=artist.headers,
        params={"from": "2000-01-01"},
    ).json()
    assert link_report["from"] == "2000-01-01" and link_report["to"] is None
    openapi = openapi_of(api)
    org = "/v1/music/{org}"
    for body, model, path in (
        (link_report, LinkReport, f"{org}/shares/{{link_id}}/analytics"),
        (report, PackReport, f"{org}/packs/{{pack_id}}/analytics"),
        (track_report, TrackReport, f"{org}/tracks/{{track_id}}/analytics"),
    ):
        assert_body_is(model, body)
        assert_documented(openapi, "get", path, model)


def test_share_list_costs_the_same_for_1_and_100_links(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    for _ in range(6):
        api.post(
            f"/v1/music/{artist.organization_id}/tracks/{track['id']}/share", headers=artist.headers
        )
    url = f"/v1/music/{artist.organization_id}/shares"
    one = api.get(url, headers=artist.headers, params={"limit": 1})
    many = api.get(url, headers=artist.headers, params={"limit": 100})
    assert len(one.json()["items"]) == 1 and len(many.json()["items"]) == 6
    statements = int(one.headers["x-encore-db-statements"])
    assert statements > 0
    assert int(many.headers["x-encore-db-statements"]) == statements


def test_analytics_drops_owner_events_by_its_own_registry(suite: Suite) -> None:
    link_id, owner = "mslink_" + uuid.uuid4().hex[:12], "usr_" + uuid.uuid4().hex[:12]
    created = wrap(
        ShareLinkLifecycle(
            action="created",
            link_id=link_id,
            link_kind="track",
            organization_id="org_x",
            owner_id=owner,
        ),
        producer="test",
    )
    publish(
        suite.infra.kafka_bootstrap,
        topics.SHARE_LIFECYCLE,
        [(link_id.encode(), created.model_dump_json().encode())],
    )
    eventually(lambda: bool(_registry_has(suite, link_id)))
    by_owner = wrap(
        ShareClicked(link_id=link_id, link_kind="track", visitor=Visitor(user_id=owner)),
        producer="test",
    )
    by_fan = wrap(
        ShareClicked(link_id=link_id, link_kind="track", visitor=Visitor(user_id="usr_fan")),
        producer="test",
    )
    publish(
        suite.infra.kafka_bootstrap,
        topics.SHARE_CLICKED,
        [(link_id.encode(), e.model_dump_json().encode()) for e in (by_owner, by_fan)],
    )
    stats = eventually(lambda: (s := raw_link_stats(suite, link_id))["views"] >= 1 and s)
    assert stats["views"] == 1 and stats["unique_visitors"] == 1


def _registry_has(suite: Suite, link_id: str) -> bool:
    from tests.conftest import run_sql

    return bool(
        run_sql(
            suite.infra.database_url, "select 1 from analytics.links where link_id = $1", link_id
        )
    )


def test_kill_9_mid_stream_loses_and_doubles_nothing(suite: Suite) -> None:
    links = [f"mslink_{uuid.uuid4().hex[:12]}" for _ in range(20)]
    events = [
        wrap(
            TrackPlayed(
                link_id=links[i % 20],
                track_id=f"mtrack_k{i % 7}",
                visitor=Visitor(visitor_id=f"v{i}"),
            ),
            producer="test",
        )
        for i in range(6000)
    ]
    values = [(e.key.encode(), e.model_dump_json().encode()) for e in events]
    publish(suite.infra.kafka_bootstrap, topics.TRACK_PLAYED, values[:3000])
    eventually(
        lambda: sum(raw_link_stats(suite, link)["plays"] for link in links[:2]) > 0,
        timeout=30,
        interval=0.02,
    )
    suite.kill("analytics")  # SIGKILL while batches are in flight
    publish(suite.infra.kafka_bootstrap, topics.TRACK_PLAYED, values[3000:])
    suite.start("analytics")
    suite.wait_ready(("analytics",), 60)
    expected = {link: sum(1 for e in events if e.payload.link_id == link) for link in links}
    eventually(
        lambda: {link: raw_link_stats(suite, link)["plays"] for link in links} == expected,
        timeout=90,
        interval=0.5,
    )
    for link in links:
        assert raw_link_stats(suite, link)["plays"] == expected[link] == 300


def test_dead_letters_can_be_listed_and_replayed(suite: Suite) -> None:
    link_id = "mslink_" + uuid.uuid4().hex[:12]
    good = wrap(
        ShareClicked(link_id=link_id, link_kind="track", visitor=Visitor(visitor_id="v")),
        producer="test",
    )
    # as if an older consumer had dead-lettered a valid event
    dlq = topics.dead_letter_topic(topics.SHARE_CLICKED)
    publish(suite.infra.kafka_bootstrap, dlq, [(link_id.encode(), good.model_dump_json().encode())])
    env = {**os.environ, **suite.env()}
    listed = subprocess.run(
        [sys.executable, "-m", "analytics.cli", "dlq", "list", "--topic", topics.SHARE_CLICKED],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert any(item["key"] == link_id for item in json.loads(listed.stdout))
    assert raw_link_stats(suite, link_id)["views"] == 0
    replayed = subprocess.run(
        [sys.executable, "-m", "analytics.cli", "dlq", "replay", "--topic", topics.SHARE_CLICKED],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(replayed.stdout)["replayed"] >= 1
    assert eventually(lambda: raw_link_stats(suite, link_id)["views"] == 1)
    again = subprocess.run(
        [sys.executable, "-m", "analytics.cli", "dlq", "replay", "--topic", topics.SHARE_CLICKED],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(again.stdout)["replayed"] == 0, "a replay never repeats"


def test_consumer_metrics_are_exported(suite: Suite) -> None:
    text = httpx.get(suite.ops_url("analytics") + "/metrics").text
    for name in (
        "encore_analytics_events_consumed_total",
        "encore_analytics_events_applied_total",
        "encore_analytics_consumer_lag",
    ):
        assert name in text


def test_reports_answer_at_the_ends_of_the_calendar(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """Found by fuzzing: `to=9999-12-31` overflowed computing the day after the range (500)."""
    artist = new_artist()
    track, link = shared_track(api, artist)
    org = f"/v1/music/{artist.organization_id}"
    api.get(f"/v1/public/track-links/{link['token']}/playback-url", params={"visitorId": "v"})
    reports = (f"{org}/shares/{link['id']}/analytics", f"{org}/tracks/{track['id']}/analytics")
    eventually(lambda: api.get(reports[0], headers=artist.headers).json()["totals"]["plays"])
    for report in reports:
        everything = api.get(
            report, headers=artist.headers, params={"from": "0001-01-01", "to": "9999-12-31"}
        )
        assert everything.status_code == 200, everything.text
        body = everything.json()
        assert body["totals"]["plays"] == 1, "the whole calendar holds today's play"
        assert body["daily"][-1]["date"] == "9999-12-31"
        assert len(body["daily"]) == 367, "the daily series stays clamped to a year"
        until_the_end = api.get(report, headers=artist.headers, params={"to": "9999-12-31"})
        assert until_the_end.status_code == 200, until_the_end.text
        assert until_the_end.json()["totals"]["plays"] == 1
