"""Issue 17, the gateway and sharing half, on the running suite: listening beacons become
`track.listened` events once each, previews are `share.previewed` and never views, every
engagement carries its device (never the raw User-Agent), and one client's anonymous
engagement is limited."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from contracts import topics
from contracts.events import SharePreviewed
from tests.conftest import (
    Artist,
    eventually,
    gateway_metric,
    read_events,
    read_events_raw,
    upload,
)
from tests.test_sharing import make_pack, share_pack, track_link

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
BROWSERS = {
    "Chrome": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mobile Safari": IPHONE,
    "Firefox": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
}
PREVIEWERS = {
    "Slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "WhatsApp": "WhatsApp/2.23.20.0 A",
    "iMessage": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, "
    "like Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
    "Twitter/X": "Twitterbot/1.0",
    "Facebook": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Telegram": "TelegramBot (like TwitterBot)",
    "LinkedIn": "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient "
    "+http://www.linkedin.com)",
    "Googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Microsoft Safe Links": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/112.0.0.0 Safari/537.36 BingPreview/1.0b",
}


def beacon(track_id: str, **target: Any) -> dict[str, Any]:
    return {
        "visitorId": "v" + secrets.token_hex(6),
        "sessionId": "s" + secrets.token_hex(6),
        "playId": "p" + secrets.token_hex(6),
        "trackId": track_id,
        "intervals": [{"from": 0, "to": 10.5}, {"from": 30, "to": 41}],
        **target,
    }


def send(api: httpx.Client, *beacons: dict[str, Any], agent: str = IPHONE) -> None:
    # as navigator.sendBeacon sends a string: text/plain
    response = api.post(
        "/v1/public/listens",
        content=json.dumps({"beacons": list(beacons)}),
        headers={"content-type": "text/plain;charset=UTF-8", "user-agent": agent},
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"accepted": len(beacons)}


def events_of(suite: Any, topic: str, pick: Callable[[Any], bool], n: int) -> list[Any]:
    """Exactly the `n` countable events `pick` selects (distinct event ids: what every
    consumer counts, SPEC §4): all of them arrive, and for a few seconds more not one more
    does. One of each event id is returned."""
    bootstrap = suite.infra.kafka_bootstrap

    def distinct(events: list[Any]) -> dict[Any, Any]:
        return {e.event_id: e for e in events if pick(e)}

    found = read_events(bootstrap, topic, lambda es: len(distinct(es)) >= n, timeout=30)
    none_beyond(bootstrap, topic, lambda es: len(distinct(es)) > n)
    return list(distinct(found).values())


def none_beyond(bootstrap: str, topic: str, too_many: Callable[[list[Any]], bool]) -> None:
    try:
        read_events(bootstrap, topic, too_many, timeout=4)
    except AssertionError:
        return  # not within the time: as expected
    pytest.fail(f"{topic}: more events than expected")


def test_a_beacon_becomes_one_track_listened_with_its_link_visitor_and_device(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Any
) -> None:
    artist = new_artist()
    pack, tracks = make_pack(api, artist, n=2)
    track = tracks[0]
    link = track_link(api, artist, track["id"])
    slug = share_pack(api, artist, pack["id"])["slug"]
    ref = api.post(f"/v1/tracks/{track['id']}/shares", headers=artist.headers).json()["code"]
    by_token = beacon(track["id"], token=link["token"])
    by_slug = beacon(tracks[1]["id"], slug=slug)
    by_ref = beacon(track["id"], ref=ref)
    unattributed = beacon(track["id"])
    send(api, by_token, by_slug)
    send(api, by_ref, unattributed)
    send(api, by_token)  # sent again (a retried sendBeacon): still one event

    plays = {b["playId"]: b for b in (by_token, by_slug, by_ref, unattributed)}
    found = events_of(suite, topics.TRACK_LISTENED, lambda e: e.payload.play_id in plays, 4)
    heard = {e.payload.play_id: e.payload for e in found}
    token_event = heard[by_token["playId"]]
    assert (token_event.link_id, token_event.link_kind) == (link["id"], "track")
    assert token_event.track_id == track["id"]
    assert token_event.organization_id == artist.organization_id
    assert token_event.link_owner_id == artist.user_id
    assert token_event.intervals == ((0.0, 10.5), (30.0, 41.0))
    assert token_event.visitor.visitor_id == by_token["visitorId"]
    assert token_event.visitor.session_id == by_token["sessionId"]
    assert token_event.visitor.user_id is None
    device = token_event.visitor.device
    assert (device.browser, device.os, device.device_class) == ("Mobile Safari", "iOS", "mobile")
    assert token_event.duration_seconds and token_event.duration_seconds > 0
    slug_event = heard[by_slug["playId"]]
    assert (slug_event.link_kind, slug_event.pack_id, slug_event.track_id) == (
        "pack",
        pack["id"],
        tracks[1]["id"],
    )
    assert heard[by_ref["playId"]].link_kind == "ref"
    alone = heard[unattributed["playId"]]
    assert (alone.link_id, alone.organization_id) == (None, artist.organization_id)

    # the raw User-Agent is nowhere in what was stored and published
    raw = read_events_raw(
        suite.infra.kafka_bootstrap,
        topics.TRACK_LISTENED,
        lambda rs: any(by_token["playId"].encode() in (r.value or b"") for r in rs),
    )
    ours = [r.value for r in raw if by_token["playId"].encode() in (r.value or b"")]
    assert ours and all(b"iPhone OS 18_1" not in v and b"AppleWebKit" not in v for v in ours)


def test_beacons_of_revoked_links_or_other_tracks_are_dropped_and_counted(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Any
) -> None:
    artist = new_artist()
    track, other = upload(api, artist, title="one"), upload(api, artist, title="two")
    live, revoked = track_link(api, artist, track["id"]), track_link(api, artist, track["id"])
    api.get(f"/v1/public/track-links/{live['token']}")  # cached by the gateway
    deleted = api.delete(
        f"/v1/music/{artist.organization_id}/shares/{revoked['id']}", headers=artist.headers
    )
    assert deleted.status_code in (200, 204), deleted.text
    sharing_metrics = suite.ops_url("sharing")
    dropped_before = gateway_metric(
        sharing_metrics, "encore_sharing_listens_dropped_total", 'reason="link_unavailable"'
    )
    not_in_link = gateway_metric(
        suite.ops_url("gateway"),
        "encore_gateway_listen_beacons_dropped_total",
        'reason="track_not_in_link"',
    )
    gone = beacon(track["id"], token=revoked["token"])
    wrong_track = beacon(other["id"], token=live["token"])  # the cached link's other track
    unknown = beacon(track["id"], token="shr_" + secrets.token_hex(16))
    marker = beacon(track["id"], token=live["token"])
    send(api, gone, wrong_track, unknown)
    send(api, marker)

    plays = {b["playId"] for b in (gone, wrong_track, unknown, marker)}
    found = events_of(suite, topics.TRACK_LISTENED, lambda e: e.payload.play_id in plays, 1)
    assert found[0].payload.play_id == marker["playId"]
    assert (
        gateway_metric(
            sharing_metrics, "encore_sharing_listens_dropped_total", 'reason="link_unavailable"'
        )
        >= dropped_before + 2
    )
    assert (
        gateway_metric(
            suite.ops_url("gateway"),
            "encore_gateway_listen_beacons_dropped_total",
            'reason="track_not_in_link"',
        )
        == not_in_link + 1
    )


def test_previews_by_each_named_fetcher_are_never_views(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Any
) -> None:
    artist = new_artist()
    pack, tracks = make_pack(api, artist, n=1)
    track = tracks[0]
    link = track_link(api, artist, track["id"])
    pack_link = share_pack(api, artist, pack["id"])
    slug = pack_link["slug"]
    ref_link = api.post(f"/v1/tracks/{track['id']}/shares", headers=artist.headers).json()
    ref = ref_link["code"]
    ids = {"pack": pack_link["id"], "ref": ref_link["id"]}
    surfaces = [
        f"/t/{link['token']}",
        f"/v1/public/track-links/{link['token']}",
        f"/p/{slug}",
        f"/v1/public/pack-links/{slug}",
        f"/tracks/{track['id']}?ref={ref}",
    ]
    for agent in PREVIEWERS.values():
        for path in surfaces:
            response = api.get(path, headers={"user-agent": agent})
            assert response.status_code == 200, (path, agent, response.text)
        assert api.post(
            f"/v1/tracks/{track['id']}/shares/{ref}/click", headers={"user-agent": agent}
        ).json() == {"ok": True}
    # HEAD and prefetches, whoever sends them
    chrome = BROWSERS["Chrome"]
    for path in (f"/t/{link['token']}", f"/p/{slug}", f"/tracks/{track['id']}?ref={ref}"):
        assert api.head(path, headers={"user-agent": chrome}).status_code == 200
        for purpose in ({"sec-purpose": "prefetch"}, {"purpose": "prefetch"}):
            assert api.get(path, headers={"user-agent": chrome, **purpose}).status_code == 200
    assert (
        api.get(
            f"/v1/public/track-links/{link['token']}",
            headers={"user-agent": chrome, "sec-purpose": "prefetch;prerender"},
        ).status_code
        == 200
    )

    ours = {link["id"], ids["pack"], ids["ref"]}
    n = len(PREVIEWERS)
    expected = {
        # (link kind, reason): how many
        ("track", "preview_fetcher"): 2 * n,
        ("pack", "preview_fetcher"): 2 * n,
        ("ref", "preview_fetcher"): 2 * n,
        ("track", "head"): 1,
        ("pack", "head"): 1,
        ("ref", "head"): 1,
        ("track", "prefetch"): 3,
        ("pack", "prefetch"): 2,
        ("ref", "prefetch"): 2,
    }
    previews = events_of(
        suite,
        topics.SHARE_PREVIEWED,
        lambda e: isinstance(e.payload, SharePreviewed) and e.payload.link_id in ours,
        sum(expected.values()),
    )
    counted: dict[tuple[str, str], int] = {}
    for event in previews:
        key = (event.payload.link_kind, event.payload.reason)
        counted[key] = counted.get(key, 0) + 1
        assert event.payload.visitor.device is not None
    assert counted == expected
    # and not one of them was a view: a person's opens are, with their browser's device
    for agent in BROWSERS.values():
        assert api.get(f"/t/{link['token']}", headers={"user-agent": agent}).status_code == 200
        assert api.get(f"/p/{slug}", headers={"user-agent": agent}).status_code == 200
    clicks = events_of(
        suite, topics.SHARE_CLICKED, lambda e: e.payload.link_id in ours, len(BROWSERS)
    )
    assert sorted(e.payload.visitor.device.browser for e in clicks) == sorted(BROWSERS)
    views = events_of(suite, topics.PACK_VIEWED, lambda e: e.payload.link_id in ours, len(BROWSERS))
    assert {e.payload.visitor.device.device_class for e in views} == {"desktop", "mobile"}


def test_one_clients_anonymous_engagement_is_limited_and_pages_still_answer(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Any
) -> None:
    """The default limit (300 per 10 minutes per address): 320 beacons from one address
    record 300; a play and a page open past it still answer, and record nothing."""
    artist = new_artist()
    track = upload(api, artist, title="hammered")
    link = track_link(api, artist, track["id"])
    dropped_before = gateway_metric(
        suite.ops_url("gateway"), "encore_gateway_engagement_dropped_total"
    )
    sent = [beacon(track["id"], token=link["token"]) for _ in range(320)]
    for start in range(0, len(sent), 20):
        send(api, *sent[start : start + 20])
    plays = {b["playId"] for b in sent}
    events_of(suite, topics.TRACK_LISTENED, lambda e: e.payload.play_id in plays, 300)

    marker = "late-" + secrets.token_hex(4)
    played = api.post(f"/v1/tracks/{track['id']}/plays", json={"visitorId": marker})
    assert played.status_code == 200 and played.json() == {"ok": True}
    page = api.get(f"/t/{link['token']}", params={"visitorId": marker})
    assert page.status_code == 200 and "<audio" in page.text
    eventually(
        lambda: (
            gateway_metric(suite.ops_url("gateway"), "encore_gateway_engagement_dropped_total")
            >= dropped_before + 22
        )
    )
    bootstrap = suite.infra.kafka_bootstrap
    for topic in (topics.TRACK_PLAYED, topics.SHARE_CLICKED):
        none_beyond(
            bootstrap,
            topic,
            lambda es: any(e.payload.visitor.visitor_id == marker for e in es),
        )

    # another address is not held back by this one
    other = beacon(track["id"], token=link["token"])
    api.post(
        "/v1/public/listens",
        json={"beacons": [other]},
        headers={"x-forwarded-for": "10.250.0.1", "user-agent": IPHONE},
    )
    events_of(suite, topics.TRACK_LISTENED, lambda e: e.payload.play_id == other["playId"], 1)


def test_the_owners_own_listening_is_not_recorded(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Any
) -> None:
    """A signed-in beacon goes through the Litestar route (the anonymous one is answered in
    front of it): the same answer, and the owner's own listening is skipped as views are."""
    artist = new_artist()
    track = upload(api, artist, title="mine")
    link = track_link(api, artist, track["id"])
    own = beacon(track["id"], token=link["token"])
    response = api.post("/v1/public/listens", json={"beacons": [own]}, headers=artist.headers)
    assert response.status_code == 202 and response.json() == {"accepted": 1}
    marker = beacon(track["id"], token=link["token"])
    send(api, marker)
    plays = {own["playId"], marker["playId"]}
    found = events_of(suite, topics.TRACK_LISTENED, lambda e: e.payload.play_id in plays, 1)
    assert found[0].payload.play_id == marker["playId"]
