"""The link pages over HTTP against the running suite: what a recipient, a preview
fetcher and a bad link get, with the headers SPEC §8 asks for. (Browser behaviour is in
test_web_browser.py.)"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable

import httpx
import pytest

from devstack.suite import Suite
from tests.conftest import (
    Artist,
    assert_error,
    eventually,
    link_stats,
    revoked_behind_the_gateways_back,
    upload,
    warm,
)
from tests.test_artwork_sizes import set_image
from tests.test_sharing import make_pack, share_pack, track_link

SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36"


def assert_page_headers(response: httpx.Response, embed: bool = False) -> None:
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert ("frame-ancestors *" if embed else "frame-ancestors 'none'") in csp
    assert "<script>" not in response.text and "style=" not in response.text
    assert "Traceback" not in response.text


def test_track_page_counts_a_person_not_a_preview(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist, title="Night <drive>")
    link = track_link(api, artist, track["id"])
    page_path = "/t/" + link["token"]
    assert link["url"].endswith(page_path)

    for head in (
        {"user-agent": SLACK},
        {"user-agent": CHROME, "sec-purpose": "prefetch"},
    ):
        card = api.get(page_path, headers=head)
        assert card.status_code == 200, card.text
        assert '<meta property="og:title" content="Night &lt;drive&gt; · Artist' in card.text
    assert api.head(page_path, headers={"user-agent": CHROME}).status_code == 200

    opened = api.get(page_path, headers={"user-agent": CHROME})
    assert opened.status_code == 200
    assert_page_headers(opened)
    assert opened.headers["x-robots-tag"] == "noindex"
    assert '<meta name="robots" content="noindex">' in opened.text
    assert '<link rel="canonical" href="' in opened.text and page_path in opened.text
    assert 'type="application/json+oembed"' in opened.text
    assert "<audio controls" in opened.text  # plays without script
    assert re.search(r'src="/assets/player\.[0-9a-f]{12}\.js"', opened.text)

    counted = eventually(
        lambda: (
            link_stats(api, artist, link["id"])
            if link_stats(api, artist, link["id"])["views"] >= 1
            else None
        )
    )
    assert counted["views"] == 1  # the preview, the prefetch and the HEAD were not counted

    audio = api.get(f"/a/t/{link['token']}", headers={"accept": "application/json"})
    assert audio.status_code == 200 and audio.json()["url"]
    redirect = api.get(f"/a/t/{link['token']}")
    assert redirect.status_code == 302 and "/v1/media/" in redirect.headers["location"]


def test_pack_page_counts_a_person_not_a_preview(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    pack, _ = make_pack(api, artist, 1)
    link = share_pack(api, artist, pack["id"])
    page_path = f"/p/{link['slug']}"

    for head in (
        {"user-agent": SLACK},
        {"user-agent": CHROME, "sec-purpose": "prefetch"},
    ):
        for path in (page_path, f"/embed{page_path}"):
            card = api.get(path, headers=head)
            assert card.status_code == 200, card.text
            assert '<meta property="og:title"' in card.text
    assert api.head(page_path, headers={"user-agent": CHROME}).status_code == 200
    assert link_stats(api, artist, link["id"])["views"] == 0

    opened = api.get(page_path, headers={"user-agent": CHROME})
    assert opened.status_code == 200
    counted = eventually(
        lambda: (
            link_stats(api, artist, link["id"])
            if link_stats(api, artist, link["id"])["views"] >= 1
            else None
        )
    )
    # one view: the previews, prefetches and HEAD above were served but not counted
    assert counted["views"] == 1

    # the JSON surface still counts a person, and a client cannot ask it not to
    shown = api.get(f"/v1/public/pack-links/{link['slug']}", params={"countView": "false"})
    assert shown.status_code == 200, shown.text
    assert eventually(lambda: link_stats(api, artist, link["id"])["views"] == 2)


PER_REQUEST = ("date", "x-request-id", "x-encore-db-statements")


def test_a_cached_track_page_is_answered_in_front_alike(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    """Anonymous opens of a cached link's page are answered in front of Litestar
    (cached_opens.py) with what the Litestar route answers (a caller with a cookie goes
    through the route); a card fetcher there is still no view, and every person is one.
    Which one answered is not for a client to tell (the front layer exists for speed): all
    three answer from the gateway's cache, while sharing would refuse the link."""
    api.cookies.clear()  # no cookie from an earlier test: a cookie goes through Litestar
    artist = new_artist()
    link = track_link(api, artist, upload(api, artist, title="Front row")["id"])
    warmed = warm(api, suite, link)
    for path, embed in ((f"/t/{link['token']}", False), (f"/embed/t/{link['token']}", True)):
        with revoked_behind_the_gateways_back(suite, link["id"]):
            front = api.get(path, params={"visitorId": "anon"}, headers={"user-agent": CHROME})
            card = api.get(path, headers={"user-agent": SLACK})
            routed = api.get(path, headers={"user-agent": CHROME, "cookie": "other=1"})
        for response in (front, card, routed):
            assert response.status_code == 200
            assert_page_headers(response, embed=embed)
            assert int(response.headers["content-length"]) == len(response.content)
        assert front.content == routed.content == card.content
        assert {k: v for k, v in front.headers.items() if k not in PER_REQUEST} == {
            k: v for k, v in routed.headers.items() if k not in PER_REQUEST
        }
        assert re.fullmatch("[0-9a-f]{32}", front.headers["x-request-id"])
    # the two people on each page counted, the card fetchers not
    eventually(lambda: link_stats(api, artist, link["id"])["views"] == warmed + 4)
    bad = api.get(f"/t/{link['token']}x", headers={"user-agent": CHROME})
    assert bad.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/t/shr_" + "0" * 32,
        "/t/" + "x" * 5000,
        "/t/%C3%A9t%C3%A9",
        "/t/a%2Fb",
        "/t/..%2F..%2Fetc",
        "/p/no-such-pack",
        "/s/nope",
        "/tracks/mtrack_nope",
        "/embed/t/nope",
    ],
)
def test_bad_links_get_the_same_friendly_404(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404, (path, response.text[:200])
    assert (
        "This link isn&#39;t available" in response.text
        or "This link isn't available" in response.text
    )
    assert response.headers["content-type"].startswith("text/html")


def test_gated_pack_form_wrong_then_right_code_and_downloads(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    pack, tracks = make_pack(api, artist)
    gated = share_pack(api, artist, pack["id"], access_code="letmein", disable_downloads=True)
    path = f"/p/{gated['slug']}"
    assert gated["url"].endswith(path)
    form = api.get(path)
    assert form.status_code == 403 and '<form method="post"' in form.text
    assert_page_headers(form)
    wrong = api.post(path, data={"code": "nope"})
    assert wrong.status_code == 403
    assert "That code isn't right" in wrong.text
    too_big = api.post(path, data={"code": "x" * 2000})
    assert too_big.status_code == 413
    posted = api.post(path, data={"code": "letmein"}, follow_redirects=False)
    # Post/Redirect/Get: a reload of what the browser shows repeats a GET, not the POST
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"] == path
    assert posted.headers["cache-control"] == "private, no-store"
    cookie = posted.cookies.get(f"ac_{gated['slug']}")
    assert cookie
    right = api.get(path)
    assert right.status_code == 200, right.text
    assert all(t["title"] in right.text for t in tracks)
    assert right.text.index(tracks[0]["title"]) < right.text.index(tracks[1]["title"])
    assert "Download" not in right.text  # downloads are off on this link
    again = api.get(path)  # the client kept the HttpOnly cookie, as a browser does
    assert again.status_code == 200
    api.cookies.clear()
    assert api.get(path).status_code == 403

    open_link = share_pack(api, artist, pack["id"])
    page = api.get(f"/p/{open_link['slug']}")
    assert page.status_code == 200 and page.text.count('class="download"') == len(tracks)
    download = api.get(f"/d/p/{open_link['slug']}/{tracks[0]['id']}")
    assert download.status_code == 302

    embed = api.get(f"/embed/p/{open_link['slug']}")
    assert embed.status_code == 200
    assert_page_headers(embed, embed=True)


def test_oembed_describes_the_embed(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    link = track_link(api, artist, upload(api, artist)["id"])
    found = api.get("/oembed", params={"url": link["url"], "format": "json"})
    assert found.status_code == 200, found.text
    assert f"/embed/t/{link['token']}" in found.json()["html"]
    assert api.get("/oembed", params={"url": "https://elsewhere.example/x"}).status_code == 422
    # a link page's shape on another site is not ours to embed
    foreign = link["url"].replace(httpx.URL(link["url"]).netloc.decode(), "elsewhere.example")
    assert_error(api.get("/oembed", params={"url": foreign}), 404, "RESOURCE_NOT_FOUND")


def test_assets_are_hashed_immutable_and_gzipped(api: httpx.Client) -> None:
    page = api.get("/t/nope")
    for name in re.findall(r"(/assets/[a-z]+\.[0-9a-f]{12}\.(?:css|js))", page.text):
        response = api.get(name, headers={"accept-encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-encoding"] == "gzip"
    assert api.get("/assets/player.000000000000.js").status_code == 404


def beacon(**over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "token": "shr_x",
        "visitorId": "v1",
        "sessionId": "s1",
        "playId": "p1",
        "trackId": "mtrack_1",
        "intervals": [{"from": 0, "to": 9.5}],
    }
    body.update(over)
    return body


def test_listens_are_validated_and_acknowledged(api: httpx.Client) -> None:
    ok = api.post("/v1/public/listens", json={"beacons": [beacon()]})
    assert ok.status_code == 202, ok.text
    assert ok.json() == {"accepted": 1}
    text_plain = api.post(
        "/v1/public/listens",
        content=b'{"beacons": [' + httpx.Request("POST", "/", json=beacon()).content + b"]}",
        headers={"content-type": "text/plain;charset=UTF-8"},
    )
    assert text_plain.status_code == 202
    bodies: list[dict[str, object]] = [
        {"beacons": []},
        {"beacons": [beacon(intervals=[{"from": 5, "to": 1}])]},
        {"beacons": [beacon(intervals=[{"from": -1, "to": 1}])]},
        {"beacons": [beacon(token="a", slug="b")]},
        {"beacons": [beacon(extra=1)]},
        {"beacons": [beacon(playId="x" * 500)]},
    ]
    for bad in bodies:
        refused = api.post("/v1/public/listens", json=bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["error"]["code"] == "VALIDATION_ERROR"
    huge = api.post("/v1/public/listens", content=b"{" + b" " * 20000 + b"}")
    assert huge.status_code == 413


def test_gzip_payload_sizes_are_small(api: httpx.Client) -> None:
    """Not a timing: the bytes a first visit downloads stay far under SPEC's 60 KB."""
    page = api.get("/t/nope")
    total = len(gzip.compress(page.content))
    for name in re.findall(r"(/assets/[a-z]+\.[0-9a-f]{12}\.(?:css|js))", page.text):
        total += len(api.get(name, headers={"accept-encoding": "gzip"}).content)
    assert total < 60 * 1024


def wait_for_peaks(api: httpx.Client, page_path: str, peaks_route: str) -> str:
    """The page once sharing's replica knows the track has peaks (the track event travels
    after the worker's commit); fetched as a preview so no view is counted."""

    def check() -> str | None:
        page = api.get(page_path, headers={"user-agent": SLACK})
        assert page.status_code == 200, page.text[:300]
        return page.text if f'data-peaks-url="{peaks_route}"' in page.text else None

    return str(eventually(check, timeout=30))


def peaks_media_url(api: httpx.Client, peaks_route: str) -> str:
    """A link page's peaks route: a redirect to the link-bound media URL of the peaks JSON."""
    redirect = api.get(peaks_route)
    assert redirect.status_code == 302, redirect.text
    assert "/v1/media/" in redirect.headers["location"]
    as_json = api.get(peaks_route, headers={"accept": "application/json"})
    assert as_json.status_code == 200 and "/v1/media/" in as_json.json()["url"]
    return str(redirect.headers["location"])


def assert_peaks(url: str, duration: float) -> None:
    got = httpx.get(url, timeout=10)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/json")
    doc = got.json()
    assert doc["points"] == 1000 and len(doc["min"]) == len(doc["max"]) == 1000
    assert doc["duration_seconds"] == pytest.approx(duration, abs=0.05)
    assert max(doc["max"]) > 0.1  # a tone, not silence


def test_track_link_page_and_payload_reach_the_peaks_until_revoked(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist, title="Waves")
    link = track_link(api, artist, track["id"])
    token = link["token"]
    route = f"/a/t/{token}/peaks"
    wait_for_peaks(api, f"/t/{token}", route)

    payload = api.get(f"/v1/public/track-links/{token}").json()["track"]
    assert payload["peaks_url"].endswith(route)
    assert payload["loudness_lufs"] == track["loudness_lufs"] is not None
    assert payload["true_peak_dbtp"] == track["true_peak_dbtp"] is not None
    assert payload["duration_seconds"] == track["duration_seconds"]
    assert "tracks/" not in str(payload)  # never a storage key

    url = peaks_media_url(api, route)
    assert_peaks(url, track["duration_seconds"])
    assert link_stats(api, artist, link["id"])["plays"] == 0  # loading peaks is not a play

    revoke = api.delete(
        f"/v1/music/{artist.organization_id}/shares/{link['id']}", headers=artist.headers
    )
    assert revoke.status_code == 204
    assert api.get(route).status_code == 404
    assert_error(httpx.get(url, timeout=10), 404, "RESOURCE_NOT_FOUND")


def test_pack_link_page_reaches_each_tracks_peaks_until_revoked(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    pack, tracks = make_pack(api, artist, 1)
    link = share_pack(api, artist, pack["id"])
    route = f"/a/p/{link['slug']}/{tracks[0]['id']}/peaks"
    wait_for_peaks(api, f"/p/{link['slug']}", route)

    shown = api.get(f"/v1/public/pack-links/{link['slug']}").json()["pack"]["tracks"][0]
    assert shown["peaks_url"].endswith(route) and shown["loudness_lufs"] is not None

    url = peaks_media_url(api, route)
    assert_peaks(url, tracks[0]["duration_seconds"])

    revoke = api.delete(
        f"/v1/music/{artist.organization_id}/shares/{link['id']}", headers=artist.headers
    )
    assert revoke.status_code == 204
    assert api.get(route).status_code == 404
    assert_error(httpx.get(url, timeout=10), 404, "RESOURCE_NOT_FOUND")


def test_a_big_pack_page_is_one_lookup_not_one_per_track(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """Every track of a pack page asks for its waveform at load, then its audio and its
    download when used: they are charged as lookups of the one pack link, so a listener
    of a pack of more tracks than the lookup budget (30 a minute) is not refused."""
    artist = new_artist()
    tracks = [upload(api, artist, title=f"Cut {i}", ready=False) for i in range(12)]
    pack = api.post(
        f"/v1/music/{artist.organization_id}/packs",
        headers=artist.headers,
        json={"title": "Long pack", "track_ids": [t["id"] for t in tracks]},
    ).json()
    slug = share_pack(api, artist, pack["id"])["slug"]

    assert api.get(f"/p/{slug}").status_code == 200
    answers = [
        api.get(f"/a/p/{slug}/{t['id']}{suffix}", headers={"accept": "application/json"})
        for t in tracks
        for suffix in ("/peaks", "")
    ] + [api.get(f"/d/p/{slug}/{t['id']}") for t in tracks]
    assert len(answers) == 36  # more than the budget of 30 distinct lookups
    assert [a.status_code for a in answers if a.status_code == 429] == []
    assert api.get(f"/p/{slug}").status_code == 200


def og_image(page_text: str) -> str:
    found = re.search(r'<meta property="og:image" content="([^"]+)"', page_text)
    assert found, "no og:image"
    assert f'<meta name="twitter:image" content="{found.group(1)}">' in page_text
    return found.group(1)


def wait_for_artwork(api: httpx.Client, page_path: str, route: str) -> str:
    """The page once sharing's replica has the track's artwork sizes (they travel in the
    `track.changed` the image upload emits); fetched as a preview, so no view."""

    def check() -> str | None:
        page = api.get(page_path, headers={"user-agent": SLACK})
        assert page.status_code == 200, page.text[:300]
        return page.text if f'src="{route}/artwork/300"' in page.text else None

    return str(eventually(check, timeout=30))


def assert_artwork(api: httpx.Client, route: str) -> str:
    """The link's artwork route answers a link-bound media URL of a WebP; returns it."""
    redirect = api.get(route)
    assert redirect.status_code == 302, redirect.text
    url = redirect.headers["location"]
    assert "/v1/media/" in url
    image = httpx.get(url, timeout=10)
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/webp")
    return str(url)


def test_link_pages_carry_artwork_for_cards_and_player_until_revoked(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    pack, tracks = make_pack(api, artist, 1)
    track = tracks[0]
    set_image(
        api, artist, f"/v1/music/{artist.organization_id}/tracks/{track['id']}", "cover-600.png"
    )
    link = track_link(api, artist, track["id"])
    token, route = link["token"], f"/a/t/{link['token']}"
    page = wait_for_artwork(api, f"/t/{token}", route)
    card = og_image(page)
    assert card.startswith("http") and card.endswith(f"{route}/artwork/1200")

    payload = api.get(f"/v1/public/track-links/{token}").json()["track"]
    assert [s["size"] for s in payload["artwork_sizes"]] == [64, 300, 1200]
    for size in payload["artwork_sizes"]:
        assert size["url"].endswith(f"{route}/artwork/{size['size']}")
        assert size["content_type"] == "image/webp"
    assert ".webp" not in str(payload) and "tracks/" not in str(payload)  # never a key

    issued = assert_artwork(api, f"{route}/artwork/1200")
    assert api.get(f"{route}/artwork/999").status_code == 404  # no such size
    assert link_stats(api, artist, link["id"])["plays"] == 0  # an image is not a play

    shared = share_pack(api, artist, pack["id"])
    pack_route = f"/a/p/{shared['slug']}/{track['id']}"
    pack_page = wait_for_artwork(api, f"/p/{shared['slug']}", pack_route)
    assert og_image(pack_page).endswith(f"{pack_route}/artwork/1200")
    assert_artwork(api, f"{pack_route}/artwork/300")

    public = api.get(f"/tracks/{track['id']}", headers={"user-agent": SLACK})
    assert public.status_code == 200
    assert og_image(public.text).startswith("http") and "/v1/media/" in og_image(public.text)

    revoke = api.delete(
        f"/v1/music/{artist.organization_id}/shares/{link['id']}", headers=artist.headers
    )
    assert revoke.status_code == 204
    assert api.get(f"{route}/artwork/1200").status_code == 404
    assert_error(httpx.get(issued, timeout=10), 404, "RESOURCE_NOT_FOUND")


def test_public_track_audio_route_serves_public_tracks_only(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist, title="Out loud")
    page = api.get(f"/tracks/{track['id']}")
    assert page.status_code == 200
    assert f'data-audio-url="/a/tracks/{track["id"]}"' in page.text
    signed = api.get(f"/a/tracks/{track['id']}", headers={"accept": "application/json"})
    assert signed.status_code == 200 and "/v1/media/" in signed.json()["url"]
    assert httpx.get(signed.json()["url"], timeout=10).status_code == 200
    hidden = api.patch(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}",
        headers=artist.headers,
        data={"visibility": "private"},
    )
    assert hidden.status_code == 200, hidden.text
    assert api.get(f"/a/tracks/{track['id']}").status_code == 404
