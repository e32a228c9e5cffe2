"""The dashboard in a real browser (Debian's Chromium via Playwright, as
test_web_browser.py): sign in with a key, the links and one link's numbers equal to the
API's, the page updating live as a link is opened, a pack link with an access code made in
the form and opened in a second (anonymous) browser, revoked and gone, a revoked key's
session refused at once, a form without its CSRF token refused, and axe-core on each
page. Screenshots go to .artifacts/screenshots/app-*.png."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from devstack.suite import Suite
from tests.browser import chromium, require_chromium
from tests.conftest import Artist, eventually, upload
from tests.test_sharing import make_pack, track_link
from tests.test_web_browser import no_serious_violations, shot

STATS = ("views", "plays", "downloads", "reshares", "unique_visitors", "qualified_plays")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    with chromium() as running:
        yield running


def sign_in(page: Any, suite: Suite, key: str) -> None:
    page.goto(f"{suite.gateway_url}/app/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/app/links")


def api_report(api: httpx.Client, artist: Artist, link_id: str) -> dict[str, int]:
    body = api.get(
        f"/v1/music/{artist.organization_id}/shares/{link_id}/analytics", headers=artist.headers
    ).json()
    return {
        **body["totals"],
        "unique_visitors": body["unique_visitors"],
        "qualified_plays": body["listening"]["qualified_plays"],
    }


def shown(page: Any) -> dict[str, int]:
    return {
        name: int(page.locator(f"#report [data-stat='{name}']").inner_text().replace(",", ""))
        for name in STATS
    }


def test_sign_in_see_links_and_numbers_equal_to_the_api_live(
    browser: Any, suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist, title="Night drive")
    link = track_link(api, artist, track["id"])
    for n in range(3):
        assert api.get(f"/t/{link['token']}", headers={"X-Forwarded-For": f"10.9.9.{n}"}).is_success
    eventually(lambda: api_report(api, artist, link["id"])["views"] == 3, timeout=30)
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{suite.gateway_url}/app/links")
    assert page.url.endswith("/app/login")  # not signed in yet
    shot(page, "app-login")
    no_serious_violations(page)
    sign_in(page, suite, artist.api_key)
    row = page.locator("table.links tbody tr").filter(has_text="Night drive")
    assert row.count() == 1
    cells = row.locator("td.num").all_inner_texts()
    listed = api.get(f"/v1/music/{artist.organization_id}/shares", headers=artist.headers).json()
    stats = listed["items"][0]["stats"]
    expected = [stats[k] for k in ("views", "qualified_plays", "downloads", "reshares")]
    assert [int(c) for c in cells[:4]] == expected
    assert int(cells[4]) == stats["unique_visitors"]
    shot(page, "app-links")
    no_serious_violations(page)

    row.get_by_role("link").first.click()
    page.wait_for_url(f"**/app/links/{link['id']}")
    assert shown(page) == api_report(api, artist, link["id"])
    assert page.locator("svg.chart[role='img'] title").count() >= 5
    assert page.locator("#report table caption").filter(has_text="Per UTC day").count() == 1
    shot(page, "app-link")
    no_serious_violations(page)

    # live: one more open of the link shows up without a reload
    before = shown(page)["views"]
    page.wait_for_function("() => document.querySelector('[data-live]') !== null")
    assert api.get(f"/t/{link['token']}", headers={"X-Forwarded-For": "10.9.9.99"}).is_success
    page.wait_for_function(
        f"() => document.querySelector(\"#report [data-stat='views']\").textContent == '{before + 1}'",
        timeout=15000,
    )
    assert shown(page) == api_report(api, artist, link["id"])
    assert not errors

    page.goto(f"{suite.gateway_url}/app/tracks/{track['id']}")
    assert page.locator("h1").inner_text() == "Night drive"
    assert shown(page)["views"] == before + 1
    shot(page, "app-track")
    no_serious_violations(page)
    context.close()


def test_make_a_gated_pack_link_open_it_elsewhere_revoke_it(
    browser: Any, suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    pack, tracks = make_pack(api, artist, n=2)
    owner = browser.new_context()
    page = owner.new_page()
    sign_in(page, suite, artist.api_key)
    shot(page, "app-links-empty")
    assert page.get_by_text("You have no links yet").count() == 1
    no_serious_violations(page)
    page.get_by_role("link", name="New link").click()
    shot(page, "app-new")
    no_serious_violations(page)
    page.get_by_label("Pack", exact=True).select_option(pack["id"])
    page.get_by_label("Name (optional, shown as the page title)").fill("For DJs")
    page.get_by_label("Access code (optional, 4–64 characters)").fill("letmein")
    page.get_by_label("Don't allow downloads").check()
    page.get_by_role("button", name="Make the pack link").click()
    url = page.get_by_label("Link address").input_value()
    assert "/p/" in url
    copy = page.get_by_role("button", name="Copy")
    assert copy.is_visible()  # the script turned the button on
    shot(page, "app-created")
    no_serious_violations(page)

    stranger = browser.new_context()  # anonymous, no session
    other = stranger.new_page()
    slug = url.rsplit("/p/", 1)[1]
    other.goto(f"{suite.gateway_url}/p/{slug}")
    other.get_by_label("Access code").fill("letmein")
    other.get_by_role("button", name="Open").click()
    assert other.locator(".track").count() == len(tracks)
    assert other.title() == "For DJs"
    assert other.locator("a.download").count() == 0

    page.get_by_role("link", name="See its numbers").click()
    assert page.get_by_label("Link address").input_value() == url
    shot(page, "app-pack-link")
    no_serious_violations(page)
    page.get_by_role("button", name="Revoke this link").click()
    page.wait_for_url("**/app/links?revoked=1")
    assert page.get_by_role("status").first.inner_text().startswith("The link was revoked")
    other.reload()
    assert other.get_by_role("heading", name="This link isn't available").count() == 1

    page.goto(f"{suite.gateway_url}/app/packs/{pack['id']}")
    shot(page, "app-pack")
    no_serious_violations(page)
    stranger.close()
    owner.close()


def test_a_revoked_key_and_a_form_without_csrf_are_refused(
    browser: Any, suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist, ready=False)
    link = track_link(api, artist, track["id"])
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, suite, artist.api_key)
    page.goto(f"{suite.gateway_url}/app/links/{link['id']}")
    # the form as a forger would post it: no token
    page.evaluate("() => document.querySelector(\"form[action$='/revoke'] [name=csrf]\").remove()")
    page.get_by_role("button", name="Revoke this link").click()
    assert page.get_by_role("heading", name="That form has expired").count() == 1
    shot(page, "app-csrf-refused")
    assert api.get(f"/t/{link['token']}").status_code == 200  # still live

    key = api.get("/v1/me/api-keys", headers=artist.headers).json()[0]
    assert api.delete(f"/v1/me/api-keys/{key['id']}", headers=artist.headers).status_code == 204
    page.goto(f"{suite.gateway_url}/app/links")
    assert page.url.endswith("/app/login")
    context.close()
