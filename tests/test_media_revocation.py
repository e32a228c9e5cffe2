"""A media URL given out through a link plays only while the link does (gateway/media_access.py):
revoking the link or hiding the track stops it at once on the gateway that saw it, and
within an event's trip on every other; an owner's URL is bound to nothing but the track."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from devstack.suite import Suite
from servicekit.internal import INTERNAL_TOKEN_HEADER, USER_ID_HEADER
from tests.conftest import Artist, assert_error, eventually, upload
from tests.test_sharing import make_pack, share_pack, track_link

EVENT_TRIP = 8.0  # well under the 10 s the gateway may keep sharing's answer


def plays(url: str) -> bool:
    return httpx.get(url, timeout=10).status_code == 200


def link_playback_url(api: httpx.Client, token: str) -> str:
    response = api.get(f"/v1/public/track-links/{token}/playback-url")
    assert response.status_code == 200, response.text
    return str(response.json()["url"])


def owner_url(api: httpx.Client, artist: Artist, track: dict[str, Any]) -> str:
    response = api.get(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/playback-url",
        headers=artist.headers,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["url"])


def test_a_revoked_track_links_playback_url_stops_at_once(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    link = track_link(api, artist, track["id"])
    url, own = link_playback_url(api, link["token"]), owner_url(api, artist, track)
    assert plays(url) and plays(url), "played twice: the second from the gateway's answer"
    revoke = api.delete(
        f"/v1/music/{artist.organization_id}/shares/{link['id']}", headers=artist.headers
    )
    assert revoke.status_code == 204
    assert_error(httpx.get(url, timeout=10), 404, "RESOURCE_NOT_FOUND")
    assert_error(
        httpx.get(url, headers={"Range": "bytes=0-99"}, timeout=10), 404, "RESOURCE_NOT_FOUND"
    )
    assert plays(own), "the owner's URL names no link"


def test_a_revocation_made_elsewhere_stops_the_url_by_share_lifecycle(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    """As when another gateway replica revoked it: only the event reaches this one."""
    artist = new_artist()
    link = track_link(api, artist, upload(api, artist)["id"])
    url = link_playback_url(api, link["token"])
    assert plays(url) and plays(url)
    revoke = httpx.delete(
        f"{suite.url('sharing')}/internal/orgs/{artist.organization_id}/shares/{link['id']}",
        headers={INTERNAL_TOKEN_HEADER: suite.internal_token, USER_ID_HEADER: artist.user_id},
    )
    assert revoke.status_code == 204, revoke.text
    eventually(lambda: not plays(url), timeout=EVENT_TRIP)
    assert_error(httpx.get(url, timeout=10), 404, "RESOURCE_NOT_FOUND")


def test_a_revoked_pack_links_download_url_stops_at_once(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    pack, tracks = make_pack(api, artist)
    link = share_pack(api, artist, pack["id"])
    response = api.get(
        f"/v1/public/pack-links/{link['slug']}/tracks/{tracks[0]['id']}/download-url"
    )
    assert response.status_code == 200, response.text
    url = response.json()["url"]
    fetched = httpx.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["content-disposition"].startswith(
        "attachment"
    )
    revoke = api.delete(
        f"/v1/music/{artist.organization_id}/shares/{link['id']}", headers=artist.headers
    )
    assert revoke.status_code == 204
    assert_error(httpx.get(url, timeout=10), 404, "RESOURCE_NOT_FOUND")


def test_a_track_taken_out_of_its_pack_stops_playing_through_the_pack_link(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    pack, tracks = make_pack(api, artist)
    link = share_pack(api, artist, pack["id"])
    response = api.get(
        f"/v1/public/pack-links/{link['slug']}/tracks/{tracks[0]['id']}/playback-url"
    )
    assert response.status_code == 200, response.text
    url = response.json()["url"]
    assert plays(url) and plays(url)
    changed = api.delete(
        f"/v1/music/{artist.organization_id}/packs/{pack['id']}/tracks/{tracks[0]['id']}",
        headers=artist.headers,
    )
    assert changed.status_code == 200, changed.text
    eventually(lambda: not plays(url), timeout=EVENT_TRIP)
    assert_error(httpx.get(url, timeout=10), 404, "RESOURCE_NOT_FOUND")


def test_a_track_made_private_stops_its_link_urls_but_not_its_owners(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    link = track_link(api, artist, track["id"])
    url = link_playback_url(api, link["token"])
    assert plays(url) and plays(url)
    hidden = api.patch(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}",
        data={"visibility": "private"},
        headers=artist.headers,
    )
    assert hidden.status_code == 200, hidden.text
    eventually(lambda: not plays(url), timeout=EVENT_TRIP)
    assert_error(httpx.get(url, timeout=10), 404, "RESOURCE_NOT_FOUND")
    assert plays(owner_url(api, artist, track)), "the owner still plays a private track"
