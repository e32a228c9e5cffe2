"""The dashboard over HTTP (docs/web.md, "Dashboard"): sessions (cookie flags, only a hash
stored, idle and absolute expiry, sign-out, a revoked key ends it at once), CSRF on every
form, the signed-in pack-link surface taking the session cookie, the list's filters, and
the pages when analytics is down."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import httpx

from devstack.suite import Suite
from tests.conftest import Artist, run_sql, upload
from tests.dashboard import csrf_of, signed_in
from tests.test_sharing import make_pack, share_pack, track_link

STATEMENTS = "X-Encore-DB-Statements"


def session_id(client: httpx.Client) -> str:
    value = client.cookies.get("encore_session")
    assert value
    return str(value)


def test_sign_in_sets_an_httponly_lax_cookie_and_stores_only_its_hash(
    suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    with httpx.Client(base_url=suite.gateway_url) as client:
        form = client.get("/app/login")
        assert form.headers["content-security-policy"].startswith("default-src 'self'")
        login_cookie = form.headers["set-cookie"].lower()
        assert "httponly" in login_cookie and "samesite=strict" in login_cookie
        answer = client.post("/app/login", data={"key": artist.api_key, "csrf": csrf_of(form.text)})
        assert answer.status_code == 303
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("encore_session=")
        )
        flags = cookie.lower()
        assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
        assert "secure" not in flags  # the suite's public base URL is http
        raw = session_id(client)
        rows = run_sql(
            suite.database_url("gateway"),
            "SELECT id_hash FROM gateway.dashboard_sessions WHERE user_id = $1",
            artist.user_id,
        )
        assert [r["id_hash"] for r in rows] == [hashlib.sha256(raw.encode()).hexdigest()]
        page = client.get("/app/links")
        assert page.status_code == 200
        assert artist.api_key not in page.text and raw not in page.text


def test_a_wrong_key_gets_the_form_again_and_no_session(suite: Suite) -> None:
    with httpx.Client(base_url=suite.gateway_url) as client:
        form = client.get("/app/login")
        answer = client.post("/app/login", data={"key": "nope", "csrf": csrf_of(form.text)})
        assert answer.status_code == 401
        assert "isn't valid" in answer.text
        assert "encore_session" not in client.cookies
        assert client.get("/app/links").status_code == 303


def test_forms_without_their_csrf_token_are_refused(
    suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist, ready=False)
    link = track_link(api, artist, track["id"])
    with httpx.Client(base_url=suite.gateway_url) as client:
        client.get("/app/login")  # the login cookie, but not the field
        refused = client.post("/app/login", data={"key": artist.api_key})
        assert refused.status_code == 403
        assert "encore_session" not in client.cookies
    with signed_in(suite, artist) as client:
        for data in ({}, {"csrf": "x" * 64}):
            answer = client.post(f"/app/links/{link['id']}/revoke", data=data)
            assert answer.status_code == 403, answer.text
            assert "expired" in answer.text
            answer = client.post(
                "/app/new/track", data={**data, "track_id": track["id"], "visibility": "public"}
            )
            assert answer.status_code == 403
            assert client.post("/app/logout", data=data).status_code == 403
        assert api.get(f"/t/{link['token']}").status_code == 200  # not revoked
        listed = api.get(f"/v1/music/{artist.organization_id}/shares", headers=artist.headers)
        assert listed.json()["total"] == 1  # no link made
        token = csrf_of(client.get("/app/links").text)
        assert (
            client.post(f"/app/links/{link['id']}/revoke", data={"csrf": token}).status_code == 303
        )
        assert api.get(f"/t/{link['token']}").status_code == 404


def test_revoking_the_key_or_signing_out_ends_the_session_at_once(
    suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    with signed_in(suite, artist) as client:
        assert client.get("/app/links").status_code == 200
        keys = api.get("/v1/me/api-keys", headers=artist.headers).json()
        second = api.post("/v1/me/api-keys", headers=artist.headers, json={"name": "b"}).json()
        assert (
            api.delete(f"/v1/me/api-keys/{keys[0]['id']}", headers=artist.headers).status_code
            == 204
        )
        answer = client.get("/app/links")
        assert answer.status_code == 303 and answer.headers["location"] == "/app/login"
    other = Artist(artist.user_id, artist.handle, artist.organization_id, second["api_key"])
    with signed_in(suite, other) as client:
        raw = session_id(client)
        token = csrf_of(client.get("/app/links").text)
        out = client.post("/app/logout", data={"csrf": token})
        assert out.status_code == 303
        assert "max-age=0" in out.headers["set-cookie"].lower()
        with httpx.Client(base_url=suite.gateway_url, cookies={"encore_session": raw}) as replay:
            assert replay.get("/app/links").status_code == 303


def test_sessions_expire_when_idle_and_at_their_absolute_limit(
    suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    db = suite.database_url("gateway")
    expire = {
        "idle": "UPDATE gateway.dashboard_sessions SET last_seen_at = now() - interval"
        " '61 minutes' WHERE id_hash = $1",
        "absolute": "UPDATE gateway.dashboard_sessions SET expires_at = now() WHERE id_hash = $1",
    }
    for limit, statement in expire.items():
        with signed_in(suite, artist) as client:
            assert client.get("/app/links").status_code == 200
            digest = hashlib.sha256(session_id(client).encode()).hexdigest()
            run_sql(db, statement, digest)
            assert client.get("/app/links").status_code == 303, limit
    # a session in use moves its idle clock on (at most once a minute)
    with signed_in(suite, artist) as client:
        digest = hashlib.sha256(session_id(client).encode()).hexdigest()
        run_sql(
            db,
            "UPDATE gateway.dashboard_sessions SET last_seen_at = now() - interval '50 minutes'"
            " WHERE id_hash = $1",
            digest,
        )
        assert client.get("/app/links").status_code == 200
        seen = run_sql(
            db,
            "SELECT now() - last_seen_at < interval '1 minute' AS fresh"
            " FROM gateway.dashboard_sessions WHERE id_hash = $1",
            digest,
        )
        assert seen[0]["fresh"]


def test_the_signed_in_pack_link_surface_takes_the_session_with_csrf_on_changes(
    suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist, grantee = new_artist(), new_artist()
    pack, _ = make_pack(api, artist, n=1)
    link = share_pack(api, artist, pack["id"], access_code="s3cret-code", grantees=[grantee.handle])
    path = f"/v1/pack-links/{link['slug']}"
    with httpx.Client(base_url=suite.gateway_url) as anonymous:  # a grantee's surface
        assert anonymous.get(path, params={"accessCode": "s3cret-code"}).status_code == 404
    with signed_in(suite, grantee) as client:
        opened = client.get(path, params={"accessCode": "s3cret-code"})
        assert opened.status_code == 200, opened.text
        assert opened.json()["pack"]["id"] == pack["id"]
        event = {"channel": "copy_link"}
        code = {"accessCode": "s3cret-code"}
        refused = client.post(f"{path}/share-events", json=event, params=code)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "FORBIDDEN"
        token = csrf_of(client.get("/app/links").text)
        sent = client.post(
            f"{path}/share-events", json=event, params=code, headers={"X-CSRF-Token": token}
        )
        assert sent.status_code == 200, sent.text


def test_links_filter_by_kind_and_target_and_show_the_empty_state(
    suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    with signed_in(suite, artist) as client:
        empty = client.get("/app/links")
        assert "You have no links yet" in empty.text and 'href="/app/new"' in empty.text
        pack, tracks = make_pack(api, artist, n=2)
        pack_link = share_pack(api, artist, pack["id"], name="For DJs")
        first = track_link(api, artist, tracks[0]["id"])
        second = track_link(api, artist, tracks[1]["id"])
        everything = client.get("/app/links").text
        assert all(f"/app/links/{x['id']}" in everything for x in (pack_link, first, second))
        assert everything.index(second["id"]) < everything.index(first["id"])  # newest first
        packs_only = client.get("/app/links", params={"kind": "pack"}).text
        assert pack_link["id"] in packs_only and first["id"] not in packs_only
        one_track = client.get("/app/links", params={"track": tracks[0]["id"]}).text
        assert first["id"] in one_track and second["id"] not in one_track
        assert pack_link["id"] not in one_track
        none = client.get("/app/links", params={"kind": "split_sheet"}).text
        assert "No links match" in none


def test_a_filtered_links_page_costs_the_same_statements_however_many_links(
    suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """Sharing filters the list (one call for the page): a filtered page shows only the
    matching links and its `X-Encore-DB-Statements` stays the same when the artist has
    more links than sharing's largest page (100) that do not match."""
    artist = new_artist()
    pack, tracks = make_pack(api, artist, n=2)
    pack_link = share_pack(api, artist, pack["id"], name="For DJs")
    mine = track_link(api, artist, tracks[0]["id"])
    filters: list[dict[str, str]] = [
        {"kind": "pack"},
        {"pack": pack["id"]},
        {"track": tracks[0]["id"]},
        {"kind": "track", "track": tracks[0]["id"]},
    ]
    with signed_in(suite, artist) as client:

        def page(params: dict[str, str]) -> tuple[str, int]:
            answer = client.get("/app/links", params=params)
            assert answer.status_code == 200, answer.text
            return answer.text, int(answer.headers[STATEMENTS])

        before = [page(f) for f in filters]
        others = [track_link(api, artist, tracks[1]["id"])["id"] for _ in range(101)]
        after = [page(f) for f in filters]
    assert [n for _, n in after] == [n for _, n in before]
    for (html, _), expected in zip(after, (pack_link, pack_link, mine, mine), strict=True):
        assert f"/app/links/{expected['id']}" in html and "1 link, newest first" in html
        assert not any(other in html for other in others)
    assert pack_link["id"] not in after[2][0] and mine["id"] not in after[0][0]


def test_pages_say_so_when_analytics_is_down_and_the_rest_works(
    suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist, ready=False)
    link = track_link(api, artist, track["id"])
    with signed_in(suite, artist) as client:
        suite.stop("analytics")
        try:
            listed = client.get("/app/links")
            assert listed.status_code == 200
            assert "Analytics can't be reached" in listed.text and link["id"] in listed.text
            page = client.get(f"/app/links/{link['id']}")
            assert page.status_code == 200
            assert "Analytics can't be reached" in page.text and "Revoke this link" in page.text
            token = csrf_of(page.text)
            made = client.post(
                "/app/new/track",
                data={"csrf": token, "track_id": track["id"], "visibility": "public"},
            )
            assert made.status_code == 201 and "/t/" in made.text
        finally:
            suite.start("analytics")
            suite.wait_ready(("analytics",), 60)


def test_a_link_of_someone_else_is_not_found(
    suite: Suite, api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist, other = new_artist(), new_artist()
    track = upload(api, other, ready=False)
    link = track_link(api, other, track["id"])
    with signed_in(suite, artist) as client:
        for path in (f"/app/links/{link['id']}", f"/app/tracks/{track['id']}", "/app/nope"):
            answer = client.get(path)
            assert answer.status_code == 404, path
            assert "text/html" in answer.headers["content-type"]
        assert client.get(f"/app/links/{link['id']}/events").status_code == 404
