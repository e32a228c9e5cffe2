"""The walking skeleton's promise: one request path across every service, on real infra."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from contracts import topics
from devstack.suite import Suite
from tests.conftest import MEDIA, Artist, assert_error, eventually, read_events, upload

PRIVATE_MARKERS = ("owner_id", "s3://", "encore-media", "tracks/mtrack_", "token_hash", "audio_key")


def assert_nothing_private(text: str, *secrets: str) -> None:
    for marker in (*PRIVATE_MARKERS, *secrets):
        assert marker not in text, f"{marker!r} leaked into a public payload"


def test_upload_share_open_play_and_count(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist, "tone-3s.mp3", title="First light")
    assert track["id"].startswith("mtrack_")
    assert track["content_type"] == "audio/mpeg"
    assert 2.9 < track["duration_seconds"] < 3.2

    created = api.post(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/share",
        headers=artist.headers,
        json={"visibility": "link_only", "expires_in_days": 30},
    )
    assert created.status_code == 201, created.text
    link = created.json()
    assert set(link) == {
        "id",
        "token",
        "url",
        "target_type",
        "visibility",
        "expires_at",
        "created_at",
    }
    assert link["id"].startswith("mslink_")
    assert re.fullmatch(r"shr_[0-9a-f]{32}", link["token"])
    assert link["url"].endswith("/t/" + link["token"])
    assert link["target_type"] == "track" and link["visibility"] == "link_only"
    assert link["expires_at"].endswith("Z")

    visitor = {"visitorId": "visitor-1", "sessionId": "session-1", "source": "twitter"}
    opened = api.get(f"/v1/public/track-links/{link['token']}", params=visitor)
    assert opened.status_code == 200, opened.text
    payload = opened.json()
    assert payload["track"]["title"] == "First light"
    assert payload["track"]["id"] == track["id"]
    assert_nothing_private(opened.text, artist.user_id)

    playback = api.get(f"/v1/public/track-links/{link['token']}/playback-url", params=visitor)
    assert playback.status_code == 200, playback.text
    assert_nothing_private(playback.text, artist.user_id)
    audio = httpx.get(playback.json()["url"], timeout=10)
    assert audio.status_code == 200
    # playback is the AAC/MP4 rendition (SPEC §7), never the uploaded original
    assert audio.content != (MEDIA / "tone-3s.mp3").read_bytes()
    assert audio.content[4:8] == b"ftyp" and audio.headers["content-type"] == "audio/mp4"

    def stats() -> dict[str, int] | None:
        page = api.get(f"/v1/music/{artist.organization_id}/shares", headers=artist.headers).json()
        item = next(i for i in page["items"] if i["id"] == link["id"])
        return (
            item["stats"] if item["stats"]["plays"] >= 1 and item["stats"]["views"] >= 1 else None
        )

    counted = eventually(stats)
    assert counted == {
        "views": 1,
        "plays": 1,
        "downloads": 0,
        "reshares": 0,
        "unique_visitors": 1,
        "qualified_plays": 0,  # a playback URL is a start; only heard seconds qualify
        "previews": 0,
    }


def test_signed_url_serves_byte_ranges(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    track = upload(api, artist, "tone-3s.wav")
    url = api.get(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/playback-url",
        headers=artist.headers,
    ).json()["url"]
    whole = httpx.get(url, timeout=10).content
    part = httpx.get(url, headers={"Range": "bytes=0-99"}, timeout=10)
    assert part.status_code == 206
    assert part.content == whole[:100] and len(whole) > 100
    assert part.headers["content-range"].startswith("bytes 0-99/")
    for unsatisfiable in ("bytes=999999999-", "bytes=-0", "bytes=50-10"):
        refused = httpx.get(url, headers={"Range": unsatisfiable}, timeout=10)
        error = assert_error(refused, 422, "VALIDATION_ERROR")
        assert "Range" in error["details"]["fields"], "a 422 names the field it refuses"


def test_tampered_media_url_is_refused(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    track = upload(api, artist)
    url = api.get(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/download-url",
        headers=artist.headers,
    ).json()["url"]
    assert httpx.get(url, timeout=10).headers["content-disposition"].startswith("attachment")
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert httpx.get(tampered, timeout=10).status_code == 404


def test_link_of_another_artist_is_404_for_the_sharer(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    owner, other = new_artist(), new_artist()
    track = upload(api, owner)
    # not a member of the owner's org: same 404 as for an org that does not exist
    response = api.post(
        f"/v1/music/{owner.organization_id}/tracks/{track['id']}/share", headers=other.headers
    )
    assert response.status_code == 404
    # in their own org, the track is not theirs: 404 again
    response = api.post(
        f"/v1/music/{other.organization_id}/tracks/{track['id']}/share", headers=other.headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


def test_owner_preview_is_not_recorded(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    link = api.post(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/share", headers=artist.headers
    ).json()
    assert (
        api.get(f"/v1/public/track-links/{link['token']}", headers=artist.headers).status_code
        == 200
    )
    assert (
        api.get(
            f"/v1/public/track-links/{link['token']}", params={"visitorId": "sentinel"}
        ).status_code
        == 200
    )

    def mine(events: list[Any]) -> list[Any]:
        return [e for e in events if e.payload.link_id == link["id"]]

    # both opens are keyed by link id, so the owner's (had it been written) precedes the sentinel
    events = read_events(
        suite.infra.kafka_bootstrap,
        topics.SHARE_CLICKED,
        lambda evs: any(e.payload.visitor.visitor_id == "sentinel" for e in mine(evs)),
    )
    assert [e.payload.visitor.visitor_id for e in mine(events)] == ["sentinel"]
    assert all(e.payload.visitor.user_id != artist.user_id for e in mine(events))
