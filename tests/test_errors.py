"""Bad input gets a clear answer in the SPEC envelope, never a 500."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from devstack.suite import Suite
from tests.conftest import MEDIA, TEST_MAX_UPLOAD, Artist, assert_error, join, upload


def test_missing_or_wrong_key_is_401(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    assert_error(api.get("/v1/me"), 401, "AUTHENTICATION_REQUIRED")
    assert_error(
        api.get("/v1/me", headers={"X-API-Key": "sk_wrong"}), 401, "AUTHENTICATION_REQUIRED"
    )
    assert_error(
        api.get(f"/v1/music/{artist.organization_id}/tracks"), 401, "AUTHENTICATION_REQUIRED"
    )
    assert_error(  # org-scoped routes check key and membership in one query: still 401 first
        api.get(f"/v1/music/{artist.organization_id}/shares", headers={"X-API-Key": "sk_wrong"}),
        401,
        "AUTHENTICATION_REQUIRED",
    )
    assert (
        api.get("/v1/me", headers={"Authorization": f"Bearer {artist.api_key}"}).status_code == 200
    )


def test_revoked_key_stops_working(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    created = api.post("/v1/me/api-keys", headers=artist.headers, json={"name": "ci"}).json()
    second = {"X-API-Key": created["api_key"]}
    shares = f"/v1/music/{artist.organization_id}/shares"
    assert api.get("/v1/me", headers=second).status_code == 200
    assert api.get(shares, headers=second).status_code == 200
    assert api.delete(f"/v1/me/api-keys/{created['id']}", headers=artist.headers).status_code == 204
    assert_error(api.get("/v1/me", headers=second), 401, "AUTHENTICATION_REQUIRED")
    assert_error(api.get(shares, headers=second), 401, "AUTHENTICATION_REQUIRED")
    listed = api.get("/v1/me/api-keys", headers=artist.headers).json()
    assert all("hash" not in key and created["api_key"] not in str(key) for key in listed)


def test_non_member_gets_the_same_404_as_a_missing_org(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    owner, stranger = new_artist(), new_artist()
    mine = assert_error(
        api.get(f"/v1/music/{owner.organization_id}/tracks", headers=stranger.headers),
        404,
        "RESOURCE_NOT_FOUND",
    )
    none = assert_error(
        api.get("/v1/music/org_doesnotexist/tracks", headers=stranger.headers),
        404,
        "RESOURCE_NOT_FOUND",
    )
    assert mine["message"] == none["message"]


def test_member_of_a_label_can_use_it(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    boss, member = new_artist(), new_artist()
    label = api.post("/v1/organizations", headers=boss.headers, json={"name": "Label"}).json()
    assert api.get(f"/v1/music/{label['id']}/tracks", headers=member.headers).status_code == 404
    join(api, boss, label["id"], member)
    assert api.get(f"/v1/music/{label['id']}/tracks", headers=member.headers).status_code == 200
    assert (
        api.post(
            f"/v1/organizations/{label['id']}/members",
            headers=member.headers,
            json={"handle": boss.handle},
        ).status_code
        == 403
    )
    assert (
        api.delete(
            f"/v1/organizations/{label['id']}/members/{member.user_id}", headers=boss.headers
        ).status_code
        == 204
    )
    assert api.get(f"/v1/music/{label['id']}/tracks", headers=member.headers).status_code == 404


def test_non_audio_upload_is_415(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    for name in ("not-audio.bin", "cover-600.png"):
        with (MEDIA / name).open("rb") as f:
            response = api.post(
                f"/v1/music/{artist.organization_id}/tracks",
                headers=artist.headers,
                files={"file": ("song.mp3", f, "audio/mpeg")},  # the name and declared type lie
                data={"title": "x"},
            )
        assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert (
        api.get(f"/v1/music/{artist.organization_id}/tracks", headers=artist.headers).json()[
            "total"
        ]
        == 0
    )


def test_broken_audio_is_422(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    with (MEDIA / "truncated.wav").open("rb") as f:
        response = api.post(
            f"/v1/music/{artist.organization_id}/tracks",
            headers=artist.headers,
            files={"file": ("x.wav", f)},
            data={"title": "x"},
        )
    error = assert_error(response, 422, "VALIDATION_ERROR")
    assert "file" in error["details"]["fields"]


def test_oversized_upload_is_413(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    big = (MEDIA / "tone-3s.wav").read_bytes() * (TEST_MAX_UPLOAD // 100_000 + 1)
    assert len(big) > TEST_MAX_UPLOAD
    response = api.post(
        f"/v1/music/{artist.organization_id}/tracks",
        headers=artist.headers,
        files={"file": ("big.wav", big)},
        data={"title": "big"},
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_missing_title_names_the_field(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    with (MEDIA / "tone-3s.mp3").open("rb") as f:
        response = api.post(
            f"/v1/music/{artist.organization_id}/tracks",
            headers=artist.headers,
            files={"file": ("a.mp3", f)},
        )
    assert "title" in assert_error(response, 422, "VALIDATION_ERROR")["details"]["fields"]


def test_bad_share_options_name_the_field(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    url = f"/v1/music/{artist.organization_id}/tracks/{track['id']}/share"
    for days in (0, -3):
        error = assert_error(
            api.post(url, headers=artist.headers, json={"expires_in_days": days}),
            422,
            "VALIDATION_ERROR",
        )
        assert "expires_in_days" in str(error["details"])
    error = assert_error(
        api.post(url, headers=artist.headers, json={"visibility": "everyone"}),
        422,
        "VALIDATION_ERROR",
    )
    assert "visibility" in str(error["details"])
    malformed = api.post(
        url,
        headers={**artist.headers, "content-type": "application/json"},
        content=b'{"visibility": ',
    )
    assert_error(malformed, 422, "VALIDATION_ERROR")
    clamped = api.post(url, headers=artist.headers, json={"expires_in_days": 365})
    assert clamped.status_code == 201
    no_body = api.post(url, headers=artist.headers)
    assert no_body.status_code == 201 and no_body.json()["expires_at"] is None


def test_unknown_and_revoked_tokens_look_the_same(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    link = api.post(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/share", headers=artist.headers
    ).json()
    assert api.get(f"/v1/public/track-links/{link['token']}").status_code == 200
    assert (
        api.delete(
            f"/v1/music/{artist.organization_id}/shares/{link['id']}", headers=artist.headers
        ).status_code
        == 204
    )
    revoked = assert_error(
        api.get(f"/v1/public/track-links/{link['token']}"), 404, "TRACK_LINK_UNAVAILABLE"
    )
    unknown = assert_error(
        api.get("/v1/public/track-links/shr_" + "0" * 32), 404, "TRACK_LINK_UNAVAILABLE"
    )
    assert {k: v for k, v in revoked.items() if k not in {"trace_id", "timestamp"}} == {
        k: v for k, v in unknown.items() if k not in {"trace_id", "timestamp"}
    }
    assert_error(
        api.get(f"/v1/public/track-links/{link['token']}/playback-url"),
        404,
        "TRACK_LINK_UNAVAILABLE",
    )
    assert_error(api.get(f"/v1/music/shared/{link['token']}"), 404, "TRACK_LINK_UNAVAILABLE")
    assert (
        api.delete(
            f"/v1/music/{artist.organization_id}/shares/{link['id']}", headers=artist.headers
        ).status_code
        == 404
    )


def test_public_surface_only_has_get_and_post(api: httpx.Client) -> None:
    for method in ("PUT", "PATCH", "DELETE"):
        assert_error(api.request(method, "/v1/public/track-links/shr_x"), 405, "METHOD_NOT_ALLOWED")


def test_unknown_route_is_404_in_the_envelope(api: httpx.Client) -> None:
    assert_error(api.get("/v1/nothing-here"), 404, "RESOURCE_NOT_FOUND")


def test_a_callers_trace_is_continued_and_its_id_echoed(api: httpx.Client) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"  # the tests' proxy is trusted
    response = api.get("/v1/me", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-00"})
    assert response.headers["x-request-id"] == trace_id
    assert response.json()["error"]["trace_id"] == trace_id
    generated = api.get("/v1/me").json()["error"]["trace_id"]
    assert re.fullmatch("[0-9a-f]{32}", generated) and generated != trace_id


def test_creating_users_needs_the_admin_key(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    assert_error(api.post("/v1/users", json={"handle": "zz"}), 401, "AUTHENTICATION_REQUIRED")
    assert_error(
        api.post("/v1/users", json={"handle": "zz"}, headers=artist.headers),
        401,
        "AUTHENTICATION_REQUIRED",
    )


def test_list_offsets_are_bounded_at_the_edge(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """Found by fuzzing: an offset past Postgres's bigint reached the database; the gateway
    now refuses any above 2^53 - 1 itself, naming the parameter, and that one still answers."""
    artist = new_artist()
    org = f"/v1/music/{artist.organization_id}"
    for listing in (f"{org}/tracks", f"{org}/packs", f"{org}/shares"):
        for too_far in (2**53, 2**63):
            response = api.get(listing, headers=artist.headers, params={"offset": too_far})
            error = assert_error(response, 422, "VALIDATION_ERROR")
            assert "offset" in error["details"]["fields"], error
        last = api.get(listing, headers=artist.headers, params={"offset": 2**53 - 1})
        assert last.status_code == 200, last.text
        assert last.json()["items"] == []


def _without_stamps(error: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in error.items() if k not in {"trace_id", "timestamp"}}


def test_a_service_validation_error_names_public_fields_and_nothing_internal(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """Litestar's "Validation failed for PUT /internal/orgs/…" reached callers from the
    services behind the gateway (issue 14, item 11)."""
    artist = new_artist()
    track = upload(api, artist)
    org = f"/v1/music/{artist.organization_id}"
    refused = [
        (  # catalog
            api.put(
                f"{org}/tracks/{track['id']}/split-sheet",
                headers=artist.headers,
                json={"contributors": [{"name": 3, "role": "r", "percentage": "100"}]},
            ),
            "contributors.0.name",
        ),
        (  # sharing
            api.post(
                f"{org}/tracks/{track['id']}/share",
                headers=artist.headers,
                json={"expires_in_days": "soon"},
            ),
            "expires_in_days",
        ),
        (  # the gateway itself
            api.get(f"{org}/tracks", headers=artist.headers, params={"limit": "many"}),
            "limit",
        ),
    ]
    for response, field in refused:
        error = assert_error(response, 422, "VALIDATION_ERROR")
        assert list(error["details"]["fields"]) == [field], error
        assert field in error["system_message"]
        for internal in ("/internal", "Validation failed for", "catalog", "sharing", "org_"):
            assert internal not in response.text, (internal, response.text)


def test_media_url_failures_all_look_the_same(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    """An expired, a tampered and a malformed media URL, and one naming a missing track,
    answer one body: which of them it was is in the log only (issue 14, item 11)."""
    from catalog.domain.media_tokens import MediaGrant, sign

    artist = new_artist()
    track = upload(api, artist)
    key = suite.media_signing_key.encode()
    expired = sign(MediaGrant(track["id"], "audio", "inline", int(time.time()) - 60), key)
    valid = sign(MediaGrant(track["id"], "audio", "inline", int(time.time()) + 600), key)
    assert api.get(f"/v1/media/{valid}").status_code == 200
    body, mac = valid.split(".")
    tampered = f"{body}.{mac[::-1]}"
    missing = sign(MediaGrant("mtrack_missing", "audio", "inline", int(time.time()) + 600), key)
    errors = [
        _without_stamps(assert_error(api.get(f"/v1/media/{token}"), 404, "RESOURCE_NOT_FOUND"))
        for token in (expired, tampered, "not-a-token", missing)
    ]
    assert all(error == errors[0] for error in errors), errors
    assert errors[0]["system_message"] == "media link invalid or expired", "says one thing"


def test_malformed_range_headers_are_4xx_in_the_envelope(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    """A 5,000-digit position passed int()'s digit limit: a 500 (issue 14, item 12)."""
    from catalog.domain.media_tokens import MediaGrant, sign

    artist = new_artist()
    track = upload(api, artist)
    token = sign(
        MediaGrant(track["id"], "audio", "inline", int(time.time()) + 600),
        suite.media_signing_key.encode(),
    )
    url = f"/v1/media/{token}"
    huge = "9" * 5000
    for header in (f"bytes={huge}-", f"bytes=-{huge}0-", "bytes=abc", "bytes=0-1,5-9", "pages=1-2"):
        error = assert_error(api.get(url, headers={"Range": header}), 422, "VALIDATION_ERROR")
        assert list(error["details"]["fields"]) == ["Range"], error
    whole = api.get(url, headers={"Range": f"bytes=0-{huge}"})
    assert whole.status_code == 206, whole.text
    assert (
        whole.headers["content-range"] == f"bytes 0-{track['size_bytes'] - 1}/{track['size_bytes']}"
    )


def test_odd_path_segments_are_4xx_in_the_envelope(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """Sharing put decoded ids into catalog URLs unquoted: `x%252Fsplit-sheet` reached
    catalog as `x/split-sheet` (a 500); an encoded slash routed as a separator at the
    gateway (issue 14, item 12)."""
    artist = new_artist()
    org = f"/v1/music/{artist.organization_id}"
    track = upload(api, artist)
    tid = track["id"]
    api.put(
        f"{org}/tracks/{tid}/split-sheet",
        headers=artist.headers,
        json={"contributors": [{"name": "Solo", "role": "all", "percentage": 100}]},
    )
    pack = api.post(
        f"{org}/packs", headers=artist.headers, json={"title": "P", "track_ids": [tid]}
    ).json()
    slug = api.post(f"{org}/packs/{pack['id']}/share", headers=artist.headers, json={}).json()[
        "slug"
    ]
    odd = (
        "%2F",
        "%252F",
        f"{tid}%2Fsplit-sheet",
        f"{tid}%252Fsplit-sheet",
        f"{tid}%252F..%252F..%252Fpacks%252F{pack['id']}",
        "%C3%A9%E2%82%AC",
        "%FF",
        "x" * 5000,
        "%25" * 3000,
    )
    addresses = (f"192.168.{n // 256}.{n % 256}" for n in itertools.count(1))
    # `mtrack_…%2561` reaches sharing as `mtrack_…%61`: unquoted, catalog read it as
    # `mtrack_…a`, and a ref link was made for an id that names no track
    escaped_last = f"{tid[:-1]}%25{ord(tid[-1]):02X}"
    assert_error(
        api.post(f"/v1/tracks/{escaped_last}/shares", headers=artist.headers, json={}),
        404,
        "RESOURCE_NOT_FOUND",
    )
    for value in odd:
        calls = [
            ("POST", f"/v1/tracks/{value}/shares"),
            ("POST", f"{org}/tracks/{value}/share"),
            ("GET", f"{org}/tracks/{value}"),
            ("POST", f"{org}/packs/{value}/share"),
            ("GET", f"/v1/public/pack-links/{value}"),
            ("GET", f"/v1/public/pack-links/{slug}/tracks/{value}/playback-url"),
            ("GET", f"/v1/public/track-links/{value}/playback-url"),
            ("GET", f"/v1/public/split-sheets/{value}"),
            ("GET", f"/v1/media/{value}"),
        ]
        for method, path in calls:
            # each from its own address: a 429 for too many failed lookups would hide the answer
            headers = {**artist.headers, "X-Forwarded-For": next(addresses)}
            response = api.request(method, path, headers=headers, json={})
            assert 400 <= response.status_code < 500, (method, path[:120], response.text)
            assert_error(response, response.status_code, response.json()["error"]["code"])
