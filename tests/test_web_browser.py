"""The link pages in a real browser (Debian's Chromium via Playwright), as a recipient
opens them: play, seek on the waveform, the access-code form, downloads, an embed on
another origin, a preview fetcher, and axe-core's accessibility check. A screenshot of
each page is saved under .artifacts/screenshots/."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from contracts import topics
from devstack.suite import Suite
from tests.browser import AXE, SCREENSHOTS, chromium, require_chromium
from tests.conftest import Artist, eventually, link_stats, read_events, upload
from tests.test_sharing import make_pack, share_pack, track_link
from tests.test_web_pages import wait_for_peaks

SLACK = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"
# Pixels the canvas has inked away from the middle band where the plain progress bar (what
# the player draws without peaks) lives: > 0 only when a waveform was drawn.
WAVE_INKED_OUTSIDE_THE_BAR = """() => {
  const c = document.querySelector('canvas.wave');
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const r = window.devicePixelRatio || 1, mid = c.height / 2;  // the bar: 4 CSS px at mid
  let inked = 0;
  for (let y = 0; y < c.height; y++) {
    if (y >= mid - 2 * r && y < mid + 2 * r) continue;
    for (let x = 0; x < c.width; x++) if (d[(y * c.width + x) * 4 + 3] > 0) inked++;
  }
  return inked;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    with chromium() as running:
        yield running


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def no_serious_violations(page: Any) -> None:
    # evaluated over the devtools protocol, which the page's strict CSP does not govern
    page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate("async () => await axe.run(document)")
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, [(v["id"], v["help"], [n["html"] for n in v["nodes"]]) for v in bad]


def test_track_page_plays_seeks_and_is_accessible(
    browser: Any, suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist, "tone-3s.wav", title="Long tone")
    link = track_link(api, artist, track["id"])
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    wait_for_peaks(api, f"/t/{link['token']}", f"/a/t/{link['token']}/peaks")
    page.goto(link["url"].replace(link["url"].split("/t/")[0], suite.gateway_url))
    assert page.title().startswith("Long tone")
    # the waveform is drawn from the link's peaks at page load, before any play
    page.wait_for_function(
        "() => document.querySelector('canvas.wave').getAttribute('data-peaks') === '1000'",
        timeout=15000,
    )
    assert page.evaluate(WAVE_INKED_OUTSIDE_THE_BAR) > 0
    assert link_stats(api, artist, link["id"])["plays"] == 0
    play = page.get_by_role("button", name="Play Long tone")
    play.click()
    page.wait_for_function("() => document.querySelector('audio').currentTime > 0.3", timeout=15000)
    page.get_by_role("button", name="Pause Long tone").click()
    wave = page.get_by_role("slider", name="Seek in Long tone")
    box = wave.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
    position = page.evaluate("() => document.querySelector('audio').currentTime")
    duration = page.evaluate("() => document.querySelector('audio').duration")
    assert abs(position - 0.75 * duration) < 0.3, (position, duration)
    assert "0:02" in page.locator(".time").inner_text()
    shot(page, "track-link")
    no_serious_violations(page)
    assert not errors
    counted = eventually(
        lambda: (
            link_stats(api, artist, link["id"])
            if link_stats(api, artist, link["id"])["plays"] >= 1
            else None
        )
    )
    assert counted["views"] == 1 and counted["plays"] >= 1
    context.close()


def test_the_player_reports_what_was_heard_as_one_play(
    browser: Any, suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """SPEC §9 from a real Chromium: playing the 3-second tone to its end sends beacons
    (on pause and end, with sendBeacon) that sharing records as `track.listened` of this
    link, one play id, intervals in track seconds adding up to the tone (±1 s)."""
    artist = new_artist()
    track = upload(api, artist, "tone-3s.wav", title="Heard tone")
    link = track_link(api, artist, track["id"])
    page = browser.new_page()
    page.goto(link["url"].replace(link["url"].split("/t/")[0], suite.gateway_url))
    page.get_by_role("button", name="Play Heard tone").click()
    page.wait_for_function("() => document.querySelector('audio').ended", timeout=20000)
    duration = page.evaluate("() => document.querySelector('audio').duration")

    def heard(events: list[Any]) -> float:
        ours = {e.event_id: e.payload for e in events if e.payload.link_id == link["id"]}
        return float(sum(to - start for p in ours.values() for start, to in p.intervals))

    # in a thread: Playwright's sync API holds this thread's event loop
    with ThreadPoolExecutor(1) as pool:
        events = pool.submit(
            read_events,
            suite.infra.kafka_bootstrap,
            topics.TRACK_LISTENED,
            lambda es: heard(es) >= duration - 1.0,
            30,
        ).result()
    ours = [e.payload for e in events if e.payload.link_id == link["id"]]
    assert len({p.play_id for p in ours}) == 1
    assert abs(heard(events) - duration) <= 1.0, (heard(events), duration)
    assert all(0 <= start < to <= duration + 0.5 for p in ours for start, to in p.intervals)
    assert ours[0].visitor.device is not None and ours[0].visitor.device.browser == "Chrome"
    page.close()


def test_gated_pack_wrong_then_right_code_and_no_download(
    browser: Any, suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    pack, tracks = make_pack(api, artist)
    gated = share_pack(api, artist, pack["id"], access_code="letmein", disable_downloads=True)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{suite.gateway_url}/p/{gated['slug']}")
    shot(page, "pack-gate")
    no_serious_violations(page)
    page.get_by_label("Access code").fill("wrong")
    page.get_by_role("button", name="Open").click()
    assert page.get_by_role("alert").inner_text().startswith("That code isn't right")
    slug = gated["slug"]
    for track in tracks:
        wait_for_peaks(api, f"/p/{slug}?accessCode=letmein", f"/a/p/{slug}/{track['id']}/peaks")
    page.get_by_label("Access code").fill("letmein")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Open").click()
    # Post/Redirect/Get: the page shown is a GET's, so a reload does not post the code again
    shown = navigation.value
    assert shown is not None and shown.request.method == "GET"
    posted = shown.request.redirected_from
    assert posted is not None and posted.method == "POST"
    page.reload()
    assert page.locator(".track").count() == len(tracks)
    # each waveform is fetched with the code's cookie, not a code in the URL
    page.wait_for_function(
        "n => [...document.querySelectorAll('canvas.wave')]"
        ".filter(c => c.getAttribute('data-peaks') === '1000').length === n",
        arg=len(tracks),
        timeout=15000,
    )
    assert page.locator("a.download").count() == 0
    page.get_by_role("button", name=f"Play {tracks[1]['title']}").click()
    page.wait_for_function(
        "() => document.querySelectorAll('audio')[1].currentTime > 0.2", timeout=15000
    )
    shot(page, "pack-open")
    no_serious_violations(page)
    context.close()


def test_open_pack_downloads(
    browser: Any, suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    pack, tracks = make_pack(api, artist)
    link = share_pack(api, artist, pack["id"])
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(f"{suite.gateway_url}/p/{link['slug']}")
    assert page.locator("a.download").count() == len(tracks)
    with page.expect_download() as download:
        page.locator("a.download").first.click()
    saved = download.value.path()
    assert saved is not None and saved.stat().st_size > 1000
    context.close()


class OtherOrigin(http.server.BaseHTTPRequestHandler):
    html = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(self.html)

    def log_message(self, *args: object) -> None:
        pass


def test_embed_plays_inside_another_origin(
    browser: Any, suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    link = track_link(api, artist, upload(api, artist, "tone-3s.wav", title="Embedded")["id"])
    src = f"{suite.gateway_url}/embed/t/{link['token']}"
    handler = type(
        "Page",
        (OtherOrigin,),
        {"html": f'<iframe src="{src}" title="player" width="600" height="200"></iframe>'.encode()},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        frame = page.frame_locator("iframe")
        frame.get_by_role("button", name="Play Embedded").click()
        page.wait_for_function("() => true", timeout=1000)
        inner = next(f for f in page.frames if "/embed/t/" in f.url)
        inner.wait_for_function(
            "() => document.querySelector('audio').currentTime > 0.2", timeout=15000
        )
        shot(page, "embed-other-origin")
        # the page proper refuses to be framed
        assert (
            "frame-ancestors 'none'"
            in httpx.get(f"{suite.gateway_url}/t/{link['token']}").headers[
                "content-security-policy"
            ]
        )
        page.close()
    finally:
        server.shutdown()


def test_preview_fetcher_gets_the_card_and_no_view(
    browser: Any, suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    link = track_link(api, artist, upload(api, artist, title="Card me")["id"])
    context = browser.new_context(user_agent=SLACK)
    page = context.new_page()
    page.goto(f"{suite.gateway_url}/t/{link['token']}")
    title = page.locator('meta[property="og:title"]').get_attribute("content")
    assert title is not None and title.startswith("Card me")
    assert page.locator('link[rel="canonical"]').count() == 1
    shot(page, "preview-card")
    context.close()
    person = browser.new_page()
    person.goto(f"{suite.gateway_url}/t/{link['token']}")
    person.close()
    counted = eventually(
        lambda: (
            link_stats(api, artist, link["id"])
            if link_stats(api, artist, link["id"])["views"] >= 1
            else None
        )
    )
    assert counted["views"] == 1  # the person, not the fetcher


def test_other_pages_render_and_are_accessible(browser: Any, suite: Suite) -> None:
    page = browser.new_page()
    page.goto(f"{suite.gateway_url}/t/shr_{'0' * 32}")
    assert page.get_by_role("heading").first.inner_text() == "This link isn't available"
    shot(page, "not-found")
    no_serious_violations(page)
    page.close()


def test_player_renews_its_signed_url_and_resumes_where_it_was(
    browser: Any, suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """The signed media URL lives 15 minutes. A URL the gateway no longer honours (the
    first one handed out here is spoiled, as an expired one is refused) makes the audio
    element fail: the player asks for a fresh one and plays. Past the URL's expiry (the
    page's clock moved on 16 minutes) a play asks for a fresh one first and resumes at the
    same position. Only the click counts a play; fetching or renewing the URL does not."""
    artist = new_artist()
    track = upload(api, artist, "tone-3s.wav", title="Renewed")
    link = track_link(api, artist, track["id"])
    token = link["token"]
    context = browser.new_context()
    page = context.new_page()
    uncounted: list[str] = []
    page.on("request", lambda r: uncounted.append(r.url) if "count=0" in r.url else None)
    spoiled: list[str] = []

    def spoil_the_first(route: Any) -> None:
        answer = route.fetch()
        signed = answer.json()
        if not spoiled:  # the media token's signature no longer matches
            for item in [signed, *signed.get("sources", [])]:
                url = item["url"]
                item["url"] = url[:-6] + ("B" if url[-1] == "A" else "A") * 6
                spoiled.append(item["url"])
        route.fulfill(response=answer, json=signed)

    page.route(re.compile(rf".*/a/t/{token}\?count=0$"), spoil_the_first)
    page.clock.install()
    page.goto(f"{suite.gateway_url}/t/{token}")
    page.get_by_role("button", name="Play Renewed").click()
    page.wait_for_function("() => document.querySelector('audio').currentTime > 1.0", timeout=15000)
    assert spoiled and page.evaluate("() => document.querySelector('audio').src") not in spoiled
    assert len(uncounted) == 2  # the URL before the click, then a fresh one on the error
    page.get_by_role("button", name="Pause Renewed").click()
    at = page.evaluate("() => document.querySelector('audio').currentTime")
    before = page.evaluate("() => document.querySelector('audio').src")
    page.evaluate(
        "() => { const a = document.querySelector('audio'); window.__resumedAt = null;"
        " a.addEventListener('playing', () => { window.__resumedAt = a.currentTime; },"
        " {once: true}); }"
    )
    page.clock.fast_forward("16:00")
    page.get_by_role("button", name="Play Renewed").click()
    page.wait_for_function("() => window.__resumedAt !== null", timeout=15000)
    assert len(uncounted) == 3
    assert page.evaluate("() => document.querySelector('audio').src") != before
    resumed = page.evaluate("() => window.__resumedAt")
    assert abs(resumed - at) < 0.3, (resumed, at)  # where it was, not from the start
    page.wait_for_function(
        f"() => document.querySelector('audio').currentTime > {at + 0.3}", timeout=15000
    )
    context.close()
    eventually(lambda: link_stats(api, artist, link["id"])["plays"] >= 1)
    assert link_stats(api, artist, link["id"])["plays"] == 1


def test_public_track_page_plays(
    browser: Any, suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """`/tracks/{id}` of a public, ready track has the same player as a link's page."""
    artist = new_artist()
    track = upload(api, artist, "tone-3s.wav", title="In public")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{suite.gateway_url}/tracks/{track['id']}")
    page.get_by_role("button", name="Play In public").click()
    page.wait_for_function("() => document.querySelector('audio').currentTime > 0.3", timeout=15000)
    shot(page, "public-track")
    no_serious_violations(page)
    assert not errors
    page.close()
