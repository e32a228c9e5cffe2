"""Regression tests for defects found in review: each fails on the code before its fix."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from devstack.suite import Suite
from tests.conftest import Artist, assert_error, eventually, join, link_stats, upload


def test_a_nul_in_visitor_ids_cannot_stop_analytics(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    link = api.post(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/share", headers=artist.headers
    ).json()
    assert (
        api.get(
            f"/v1/public/track-links/{link['token']}", params={"visitorId": "\x00evil\x01"}
        ).status_code
        == 200
    )
    assert (
        api.post(
            f"/v1/tracks/{track['id']}/plays", json={"visitorId": "\x00", "sessionId": "s\x00"}
        ).status_code
        == 200
    )
    api.get(f"/v1/public/track-links/{link['token']}", params={"visitorId": "after"})
    stats = eventually(lambda: (s := link_stats(api, artist, link["id"]))["views"] == 2 and s)
    assert stats["unique_visitors"] == 2, "'evil' (control characters dropped) and 'after'"


def test_admins_cannot_take_or_strip_ownership(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    owner, admin, guest = new_artist(), new_artist(), new_artist()
    label = api.post("/v1/organizations", headers=owner.headers, json={"name": "L"}).json()
    members = f"/v1/organizations/{label['id']}/members"
    join(api, owner, label["id"], admin, "admin")
    assert_error(
        api.patch(f"{members}/{admin.user_id}", headers=admin.headers, json={"role": "owner"}),
        403,
        "FORBIDDEN",
    )
    assert_error(
        api.patch(f"{members}/{owner.user_id}", headers=admin.headers, json={"role": "member"}),
        403,
        "FORBIDDEN",
    )
    assert_error(
        api.post(members, headers=admin.headers, json={"handle": guest.handle, "role": "owner"}),
        403,
        "FORBIDDEN",
    )
    assert_error(api.delete(f"{members}/{owner.user_id}", headers=admin.headers), 403, "FORBIDDEN")
    assert_error(
        api.patch(f"{members}/{owner.user_id}", headers=owner.headers, json={"role": "member"}),
        409,
        "CONFLICT",
    )
    assert_error(api.delete(f"{members}/{owner.user_id}", headers=owner.headers), 409, "CONFLICT")


def test_members_revoke_only_their_own_links(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    owner, member = new_artist(), new_artist()
    label = api.post("/v1/organizations", headers=owner.headers, json={"name": "L"}).json()
    join(api, owner, label["id"], member)
    in_label = Artist(owner.user_id, owner.handle, label["id"], owner.api_key)
    track = upload(api, in_label)
    link = api.post(
        f"/v1/music/{label['id']}/tracks/{track['id']}/share", headers=owner.headers
    ).json()
    assert_error(
        api.delete(f"/v1/music/{label['id']}/shares/{link['id']}", headers=member.headers),
        404,
        "RESOURCE_NOT_FOUND",
    )
    assert api.get(f"/v1/public/track-links/{link['token']}").status_code == 200
    assert (
        api.delete(
            f"/v1/music/{label['id']}/shares/{link['id']}", headers=owner.headers
        ).status_code
        == 204
    )


def test_strange_path_parameters_are_404_not_500(api: httpx.Client) -> None:
    for path in (
        "/v1/public/track-links/%00",
        "/v1/public/pack-links/%2E%2E/tracks/x/playback-url",
        "/v1/tracks/x%3Fy",
    ):
        response = api.get(path)
        assert response.status_code == 404, (path, response.text)


def test_a_non_ascii_id_travels_escaped_between_services(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """Sharing asks catalog about this track id: unescaped, catalog refused the request line
    (400) and the caller got a 500 (found by the fuzzer)."""
    artist = new_artist()
    response = api.post("/v1/tracks/%C2%BD/shares", headers=artist.headers, json={})
    assert_error(response, 404, "RESOURCE_NOT_FOUND")


def test_album_field_does_not_reach_into_another_organization(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    api.post(
        f"/v1/music/{artist.organization_id}/albums", headers=artist.headers, json={"title": "Demo"}
    )
    label = api.post("/v1/organizations", headers=artist.headers, json={"name": "L"}).json()
    track = upload(api, Artist(artist.user_id, artist.handle, label["id"], artist.api_key))
    response = api.patch(
        f"/v1/music/{label['id']}/tracks/{track['id']}",
        headers=artist.headers,
        data={"album": "Demo"},
    )
    assert_error(response, 409, "CONFLICT")


def test_text_the_database_cannot_store_is_422(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    assert_error(
        api.post("/v1/organizations", headers=artist.headers, json={"name": "bad\x00name"}),
        422,
        "VALIDATION_ERROR",
    )
    track = upload(api, artist)
    response = api.patch(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}",
        headers=artist.headers,
        data={"description": "a\x00b"},
    )
    assert_error(response, 422, "VALIDATION_ERROR")


def test_an_event_postgres_refuses_is_dead_lettered_not_redelivered_forever(suite: Suite) -> None:
    import uuid

    from contracts import topics
    from contracts.events import ShareClicked, Visitor, wrap
    from tests.conftest import read_events_raw
    from tests.test_events_pipeline import link_stats as raw_stats
    from tests.test_events_pipeline import publish

    good_link = "mslink_" + uuid.uuid4().hex[:12]
    poison = wrap(ShareClicked(link_id="mslink_\x00bad", link_kind="track"), producer="test")
    good = wrap(
        ShareClicked(link_id=good_link, link_kind="track", visitor=Visitor(visitor_id="v")),
        producer="test",
    )
    publish(
        suite.infra.kafka_bootstrap,
        topics.SHARE_CLICKED,
        [
            (b"k", poison.model_dump_json().encode()),
            (good_link.encode(), good.model_dump_json().encode()),
        ],
    )
    assert eventually(lambda: raw_stats(suite, good_link)["views"] == 1, timeout=20)
    dead = read_events_raw(
        suite.infra.kafka_bootstrap,
        topics.dead_letter_topic(topics.SHARE_CLICKED),
        lambda records: any(str(poison.event_id).encode() in (r.value or b"") for r in records),
    )
    assert dead
