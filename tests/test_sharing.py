"""Sharing through the gateway on the real stack: every link kind and public surface."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from contracts import ids, topics
from devstack.suite import Suite
from tests.conftest import (
    Artist,
    assert_error,
    eventually,
    link_stats,
    read_events,
    run_sql,
    upload,
)

PRIVATE = (
    "owner_id",
    "ownerId",
    "s3://",
    "encore-media",
    "tracks/mtrack_",
    "token_hash",
    "access_code_hash",
    "@",
)


def make_pack(
    api: httpx.Client, artist: Artist, n: int = 2
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    tracks = [upload(api, artist, title=f"Beat {i}") for i in range(n)]
    pack = api.post(
        f"/v1/music/{artist.organization_id}/packs",
        headers=artist.headers,
        json={"title": "Beat pack", "track_ids": [t["id"] for t in tracks]},
    ).json()
    return pack, tracks


def share_pack(api: httpx.Client, artist: Artist, pack_id: str, **options: Any) -> dict[str, Any]:
    response = api.post(
        f"/v1/music/{artist.organization_id}/packs/{pack_id}/share",
        headers=artist.headers,
        json=options,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def track_link(api: httpx.Client, artist: Artist, track_id: str, **options: Any) -> dict[str, Any]:
    response = api.post(
        f"/v1/music/{artist.organization_id}/tracks/{track_id}/share",
        headers=artist.headers,
        json=options or None,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


class TestRefCodes:
    def test_codes_are_8_url_safe_chars_and_attribute_clicks_and_plays(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist, fan = new_artist(), new_artist()
        track = upload(api, artist)
        created = api.post(f"/v1/tracks/{track['id']}/shares", headers=fan.headers)
        assert created.status_code == 201, created.text
        body = created.json()
        assert re.fullmatch(r"[A-Za-z0-9_-]{8}", body["code"])
        assert body["url"].endswith(f"/v1/tracks/{track['id']}?ref={body['code']}")
        second = api.post(f"/v1/tracks/{track['id']}/shares", headers=fan.headers).json()
        assert second["code"] != body["code"], "one code per share action"

        click = f"/v1/tracks/{track['id']}/shares/{body['code']}/click"
        assert api.post(click, headers=fan.headers).json() == {"ok": True}  # the creator: skipped
        assert api.post(click, params={"visitorId": "v1"}).json() == {"ok": True}
        assert api.post(f"/v1/tracks/{track['id']}/shares/nope1234/click").json() == {"ok": True}
        played = api.post(
            f"/v1/tracks/{track['id']}/plays", json={"ref": body["code"], "visitorId": "v1"}
        )
        assert played.status_code == 200 and played.json() == {"ok": True}
        api.post(f"/v1/tracks/{track['id']}/plays", json={"ref": "unknown1", "visitorId": "v2"})

        stats = eventually(lambda: (s := link_stats(api, fan, body["id"]))["plays"] == 1 and s)
        assert stats["views"] == 1 and stats["unique_visitors"] == 1
        assert link_stats(api, fan, second["id"])["views"] == 0

    def test_who_may_share_what(self, api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
        artist, fan = new_artist(), new_artist()
        private = upload(api, artist, visibility="private")
        assert_error(
            api.post(f"/v1/tracks/{private['id']}/shares", headers=fan.headers),
            404,
            "RESOURCE_NOT_FOUND",
        )
        assert_error(
            api.post(f"/v1/tracks/{private['id']}/shares", headers=artist.headers), 409, "CONFLICT"
        )
        assert_error(
            api.post("/v1/tracks/mtrack_missing/shares", headers=fan.headers),
            404,
            "RESOURCE_NOT_FOUND",
        )
        assert_error(api.post(f"/v1/tracks/{private['id']}/shares"), 401, "AUTHENTICATION_REQUIRED")

    def test_ten_thousand_codes_do_not_clash_and_a_clash_is_redrawn(self) -> None:
        codes = {ids.new_ref_code() for _ in range(10_000)}
        assert len(codes) == 10_000
        assert all(re.fullmatch(r"[A-Za-z0-9_-]{8}", c) for c in codes)


def test_ref_code_collision_is_retried_against_the_database(suite: Suite) -> None:
    """create_link redraws a code whose hash is already taken (unique index on token_hash)."""
    import asyncio

    from contracts.hashing import hash_secret
    from servicekit.db import make_engine, make_sessionmaker
    from servicekit.outbox import Outbox
    from servicekit.upstream import InternalClient
    from sharing.context import SharingContext
    from sharing.db.models import outbox
    from sharing.service.links import create_link
    from sharing.settings import SharingSettings

    async def run() -> list[str]:
        engine = make_engine(suite.infra.database_url, pool_size=2)
        ctx = SharingContext(
            SharingSettings(),
            make_sessionmaker(engine),
            Outbox(outbox),
            InternalClient("c", "http://x", "t"),
        )
        draws = iter(["AAAAAAAA", "AAAAAAAA", "BBBBBBBB"] + [ids.new_ref_code() for _ in range(10)])
        made = []
        try:
            for _ in range(2):
                row = await create_link(
                    ctx,
                    {
                        "kind": "ref",
                        "organization_id": "org_x",
                        "owner_id": "usr_x",
                        "track_id": "mtrack_x",
                    },
                    unique_field="token_hash",
                    make_unique=lambda: hash_secret(next(draws) + suffix),
                )
                made.append(row.token_hash)
        finally:
            await engine.dispose()
        return made

    suffix = ids.new_ref_code()
    made = asyncio.run(run())
    assert len(set(made)) == 2


class TestTrackLinks:
    def test_expiry_is_clamped_and_expired_links_are_gone(
        self, api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
    ) -> None:
        artist = new_artist()
        track = upload(api, artist)
        link = track_link(api, artist, track["id"], visibility="public", expires_in_days=500)
        expires = datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))
        assert abs(expires - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)
        assert link["visibility"] == "public"
        # expire it behind everyone's back, before any open: no event says so, and nothing
        # else can move an expiry, so a gateway that had cached the link would still hold
        # the old expiry (the cache's own expiry check: services/gateway/tests)
        run_sql(
            suite.infra.database_url,
            "update sharing.share_links set expires_at = now() - interval '1 second' where id = $1",
            link["id"],
        )
        assert_error(
            api.get(f"/v1/public/track-links/{link['token']}"), 404, "TRACK_LINK_UNAVAILABLE"
        )
        assert_error(api.get(f"/v1/music/shared/{link['token']}"), 404, "TRACK_LINK_UNAVAILABLE")

    def test_share_events_are_recorded(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist = new_artist()
        link = track_link(api, artist, upload(api, artist)["id"])
        response = api.post(
            f"/v1/public/track-links/{link['token']}/share-events",
            json={"channel": "whatsapp"},
            params={"visitorId": "v"},
        )
        assert response.status_code == 200 and response.json() == {"ok": True}
        assert_error(
            api.post(f"/v1/public/track-links/{link['token']}/share-events", json={}),
            422,
            "VALIDATION_ERROR",
        )
        assert eventually(lambda: link_stats(api, artist, link["id"])["reshares"] == 1)

    def test_private_or_deleted_track_stops_its_links(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist = new_artist()
        hidden, gone = upload(api, artist), upload(api, artist)
        hidden_link, gone_link = (
            track_link(api, artist, hidden["id"]),
            track_link(api, artist, gone["id"]),
        )
        api.patch(
            f"/v1/music/{artist.organization_id}/tracks/{hidden['id']}",
            headers=artist.headers,
            data={"visibility": "private"},
        )
        api.delete(
            f"/v1/music/{artist.organization_id}/tracks/{gone['id']}", headers=artist.headers
        )
        for token in (hidden_link["token"], gone_link["token"]):

            def unavailable(token: str = token) -> bool:
                return api.get(f"/v1/public/track-links/{token}").status_code == 404

            eventually(
                unavailable,
                timeout=10,
            )


class TestPackLinks:
    def test_access_code_downloads_and_engagement(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist = new_artist()
        pack, tracks = make_pack(api, artist)
        gated = share_pack(
            api,
            artist,
            pack["id"],
            name="For DJs",
            access_code="letmein",
            disable_downloads=True,
            expires_in_days=7,
        )
        assert gated["slug"] and gated["url"].endswith(f"/p/{gated['slug']}")
        assert gated["has_access_code"] is True and "letmein" not in str(gated)
        base = f"/v1/public/pack-links/{gated['slug']}"
        assert_error(api.get(base), 403, "ACCESS_CODE_REQUIRED")
        assert_error(api.get(base, params={"accessCode": "wrong"}), 403, "ACCESS_CODE_INVALID")
        visitor = {
            "accessCode": "letmein",
            "visitorId": "v1",
            "sessionId": "s1",
            "source": "twitter",
        }
        page = api.get(base, params=visitor)
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["link"]["name"] == "For DJs" and body["link"]["disable_downloads"] is True
        assert [t["id"] for t in body["pack"]["tracks"]] == [t["id"] for t in tracks]
        assert api.get(f"{base}/presentation", params=visitor).status_code == 200
        first = tracks[0]["id"]
        play = api.get(f"{base}/tracks/{first}/playback-url", params=visitor)
        assert (
            play.status_code == 200 and httpx.get(play.json()["url"], timeout=10).status_code == 200
        )
        assert_error(
            api.get(f"{base}/tracks/{first}/download-url", params=visitor),
            403,
            "DOWNLOADS_DISABLED",
        )
        assert_error(
            api.get(f"{base}/tracks/mtrack_other/playback-url", params=visitor),
            404,
            "RESOURCE_NOT_FOUND",
        )
        assert api.post(
            f"{base}/share-events", params=visitor, json={"channel": "email"}
        ).json() == {"ok": True}

        stats = eventually(
            lambda: (
                (s := link_stats(api, artist, gated["id"]))["reshares"] == 1
                and s["views"] == 2
                and s
            )
        )
        assert stats == {
            "views": 2,
            "plays": 1,
            "downloads": 0,
            "reshares": 1,
            "unique_visitors": 1,
            "qualified_plays": 0,  # no listening beacons were sent
            "previews": 0,
        }

        open_link = share_pack(api, artist, pack["id"])
        download = api.get(
            f"/v1/public/pack-links/{open_link['slug']}/tracks/{first}/download-url",
            params={"visitorId": "v9"},
        )
        assert download.status_code == 200
        fetched = httpx.get(download.json()["url"], timeout=10)
        assert fetched.headers["content-disposition"].startswith("attachment")
        assert eventually(lambda: link_stats(api, artist, open_link["id"])["downloads"] == 1)

    def test_signed_in_surface_is_for_owner_and_grantees(
        self, api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
    ) -> None:
        artist, grantee, stranger = new_artist(), new_artist(), new_artist()
        pack, _ = make_pack(api, artist, 1)
        link = share_pack(
            api, artist, pack["id"], access_code="s3cret-code", grantees=[grantee.handle]
        )
        base = f"/v1/pack-links/{link['slug']}"
        assert api.get(base, headers=artist.headers).status_code == 200, "the owner needs no code"
        assert_error(api.get(base, headers=grantee.headers), 403, "ACCESS_CODE_REQUIRED")
        assert (
            api.get(base, headers=grantee.headers, params={"accessCode": "s3cret-code"}).status_code
            == 200
        )
        assert_error(
            api.get(base, headers=stranger.headers, params={"accessCode": "s3cret-code"}),
            404,
            "RESOURCE_NOT_FOUND",
        )
        assert_error(api.get(base, params={"accessCode": "s3cret-code"}), 404, "RESOURCE_NOT_FOUND")

        # the owner's own view recorded nothing; the grantee's did
        events = read_events(
            suite.infra.kafka_bootstrap,
            topics.PACK_VIEWED,
            lambda evs: any(
                e.payload.link_id == link["id"] and e.payload.visitor.user_id == grantee.user_id
                for e in evs
            ),
        )
        mine = [e for e in events if e.payload.link_id == link["id"]]
        assert [e.payload.visitor.user_id for e in mine] == [grantee.user_id]

    def test_revoked_link_stops_at_once(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist = new_artist()
        pack, _ = make_pack(api, artist, 1)
        link = share_pack(api, artist, pack["id"])
        assert api.get(f"/v1/public/pack-links/{link['slug']}").status_code == 200
        assert (
            api.delete(
                f"/v1/music/{artist.organization_id}/shares/{link['id']}", headers=artist.headers
            ).status_code
            == 204
        )
        assert_error(api.get(f"/v1/public/pack-links/{link['slug']}"), 404, "RESOURCE_NOT_FOUND")

    def test_access_codes_are_salted_argon2id_and_old_sha256_rows_still_open(
        self, api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
    ) -> None:
        """A leaked table must not reveal 4-character codes by a lookup (issue 14, item 2)."""
        import hashlib

        artist = new_artist()
        pack, _ = make_pack(api, artist, 1)
        links = [share_pack(api, artist, pack["id"], access_code="1234") for _ in range(2)]

        def stored(link: dict[str, Any]) -> str:
            rows = run_sql(
                suite.infra.database_url,
                "select access_code_hash from sharing.share_links where id = $1",
                link["id"],
            )
            return str(rows[0]["access_code_hash"])

        first, second = stored(links[0]), stored(links[1])
        sha256 = hashlib.sha256(b"1234").hexdigest()
        assert first.startswith("$argon2id$") and second.startswith("$argon2id$")
        assert sha256 not in (first, second)
        assert first != second, "the same code is salted differently on each link"

        legacy = links[0]
        run_sql(
            suite.infra.database_url,
            "update sharing.share_links set access_code_hash = $2 where id = $1",
            legacy["id"],
            sha256,
        )
        base = f"/v1/public/pack-links/{legacy['slug']}"
        assert_error(api.get(base, params={"accessCode": "4321"}), 403, "ACCESS_CODE_INVALID")
        assert stored(legacy) == sha256, "a wrong code changes nothing"
        assert api.get(base, params={"accessCode": "1234"}).status_code == 200
        rehashed = stored(legacy)
        assert rehashed.startswith("$argon2id$") and rehashed != sha256
        assert api.get(base, params={"accessCode": "1234"}).status_code == 200
        assert stored(legacy) == rehashed, "a current hash is not rewritten on every open"
        assert_error(api.get(base, params={"accessCode": "4321"}), 403, "ACCESS_CODE_INVALID")

        # many right codes at once on an old row: each opens, and one rehash is kept
        run_sql(
            suite.infra.database_url,
            "update sharing.share_links set access_code_hash = $2 where id = $1",
            legacy["id"],
            sha256,
        )

        def open_from(n: int) -> int:
            headers = {"X-Forwarded-For": f"10.254.{n // 256}.{n % 256}"}
            return api.get(base, params={"accessCode": "1234"}, headers=headers).status_code

        with ThreadPoolExecutor(16) as pool:
            assert list(pool.map(open_from, range(32))) == [200] * 32
        assert stored(legacy).startswith("$argon2id$")
        assert api.get(base, params={"accessCode": "1234"}).status_code == 200

    def test_only_the_owner_shares_a_pack(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist, other = new_artist(), new_artist()
        pack, _ = make_pack(api, artist, 1)
        assert_error(
            api.post(
                f"/v1/music/{other.organization_id}/packs/{pack['id']}/share",
                headers=other.headers,
                json={},
            ),
            404,
            "RESOURCE_NOT_FOUND",
        )
        bad = api.post(
            f"/v1/music/{artist.organization_id}/packs/{pack['id']}/share",
            headers=artist.headers,
            json={"expires_in_days": 0},
        )
        assert_error(bad, 422, "VALIDATION_ERROR")


class TestSplitSheetLinks:
    def test_open_revoke_expire(
        self, api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
    ) -> None:
        artist = new_artist()
        track = upload(api, artist, title="Shared rights")
        sheet_url = f"/v1/music/{artist.organization_id}/tracks/{track['id']}/split-sheet"
        api.put(
            sheet_url,
            headers=artist.headers,
            json={
                "contributors": [
                    {"name": "A", "role": "writer", "percentage": "60"},
                    {"name": "B", "role": "producer", "percentage": "40"},
                ]
            },
        )
        created = api.post(
            f"{sheet_url}/share",
            headers=artist.headers,
            json={"name": "For the label", "expires_in_days": 3},
        )
        assert created.status_code == 201, created.text
        link = created.json()
        assert link["target_type"] == "split_sheet" and link["token"].startswith("shr_")
        opened = api.get(f"/v1/public/split-sheets/{link['token']}")
        assert opened.status_code == 200, opened.text
        body = opened.json()
        assert set(body) == {"link", "splitSheet"}
        assert {
            "name",
            "status",
            "tokenPreview",
            "trackId",
            "created_at",
            "updated_at",
            "expiresAt",
        } <= set(body["link"])
        assert body["link"]["tokenPreview"] == "…" + link["token"][-4:]
        assert [c["percentage"] for c in body["splitSheet"]["contributors"]] == ["60", "40"]
        run_sql(
            suite.infra.database_url,
            "update sharing.share_links set expires_at = now() - interval '1 second' where id = $1",
            link["id"],
        )
        assert_error(api.get(f"/v1/public/split-sheets/{link['token']}"), 404, "RESOURCE_NOT_FOUND")
        second = api.post(f"{sheet_url}/share", headers=artist.headers).json()
        api.delete(
            f"/v1/music/{artist.organization_id}/shares/{second['id']}", headers=artist.headers
        )
        assert_error(
            api.get(f"/v1/public/split-sheets/{second['token']}"), 404, "RESOURCE_NOT_FOUND"
        )


class TestSharesList:
    def test_filters_by_kind_track_and_pack_in_a_fixed_number_of_statements(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        """`GET /v1/music/{org}/shares?kind&track_id&pack_id`: sharing filters, `total`
        counts the matching links, the statements stay the same however many links match
        or not, and a kind that does not exist is a 422 naming the parameter."""
        artist = new_artist()
        url = f"/v1/music/{artist.organization_id}/shares"
        pack, tracks = make_pack(api, artist, n=2)
        pack_link = share_pack(api, artist, pack["id"])
        first = track_link(api, artist, tracks[0]["id"])
        ref = api.post(f"/v1/tracks/{tracks[0]['id']}/shares", headers=artist.headers)
        assert ref.status_code == 201, ref.text
        second = [track_link(api, artist, tracks[1]["id"]) for _ in range(3)]

        def listed(**params: Any) -> tuple[list[str], int, int]:
            answer = api.get(url, headers=artist.headers, params=params)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            statements = int(answer.headers["x-encore-db-statements"])
            return [i["id"] for i in page["items"]], page["total"], statements

        ids, total, statements = listed(kind="pack")
        assert (ids, total) == ([pack_link["id"]], 1)
        assert listed(pack_id=pack["id"]) == ([pack_link["id"]], 1, statements)
        on_first = listed(track_id=tracks[0]["id"])
        assert on_first[1:] == (2, statements) and first["id"] in on_first[0]
        kinds = {i["id"]: i["kind"] for i in api.get(url, headers=artist.headers).json()["items"]}
        assert sorted(kinds[i] for i in on_first[0]) == ["ref", "track"]
        newest = [link["id"] for link in reversed(second)]
        assert listed(kind="track", track_id=tracks[1]["id"]) == (newest, 3, statements)
        assert listed(kind="track", limit=2, offset=2) == (
            [*newest[2:], first["id"]],
            4,
            statements,
        )
        everything = listed(limit=100)
        assert everything[1:] == (6, statements)
        for params in ({"kind": "album"}, {"track_id": ""}, {"pack_id": "x" * 201}):
            error = assert_error(
                api.get(url, headers=artist.headers, params=params), 422, "VALIDATION_ERROR"
            )
            assert set(error["details"]["fields"]) == set(params), error


class TestPublicSurfaceRules:
    def populated(
        self, api: httpx.Client, artist: Artist
    ) -> list[tuple[str, str, dict[str, Any] | None]]:
        pack, tracks = make_pack(api, artist, 1)
        pack_link = share_pack(api, artist, pack["id"], access_code="open-sesame")
        tlink = track_link(api, artist, tracks[0]["id"])
        sheet = f"/v1/music/{artist.organization_id}/tracks/{tracks[0]['id']}/split-sheet"
        api.put(
            sheet,
            headers=artist.headers,
            json={"contributors": [{"name": "A", "role": "w", "percentage": 100}]},
        )
        slink = api.post(f"{sheet}/share", headers=artist.headers).json()
        code = api.post(f"/v1/tracks/{tracks[0]['id']}/shares", headers=artist.headers).json()[
            "code"
        ]
        p, t, tid = (
            f"/v1/public/pack-links/{pack_link['slug']}",
            f"/v1/public/track-links/{tlink['token']}",
            tracks[0]["id"],
        )
        q = "?accessCode=open-sesame&visitorId=v"
        return [
            ("GET", f"{p}{q}", None),
            ("GET", f"{p}/presentation{q}", None),
            ("POST", f"{p}/share-events{q}", {"channel": "x"}),
            ("GET", f"{p}/tracks/{tid}/playback-url{q}", None),
            ("GET", f"{p}/tracks/{tid}/download-url{q}", None),
            ("GET", t, None),
            ("GET", f"{t}/playback-url", None),
            ("POST", f"{t}/share-events", {"channel": "x"}),
            ("GET", f"/v1/music/shared/{tlink['token']}", None),
            ("GET", f"/v1/public/split-sheets/{slink['token']}", None),
            ("GET", f"/v1/tracks/{tid}", None),
            ("POST", f"/v1/tracks/{tid}/shares/{code}/click", None),
            ("POST", f"/v1/tracks/{tid}/plays", {"ref": code}),
            ("GET", "/v1/albums", None),
            ("GET", f"/v1/artists/{artist.handle}/albums", None),
        ]

    def test_no_public_payload_reveals_private_fields(
        self, api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
    ) -> None:
        artist = new_artist()
        routes = self.populated(api, artist)
        hashes = [
            r["token_hash"]
            for r in run_sql(
                suite.infra.database_url,
                "select token_hash from sharing.share_links where owner_id = $1 and token_hash is not null",
                artist.user_id,
            )
        ]
        assert hashes
        for method, url, body in routes:
            response = api.request(method, url, json=body)
            assert response.status_code in (200, 201), (method, url, response.text)
            for marker in (*PRIVATE, artist.user_id, artist.api_key, *hashes):
                assert marker not in response.text, (url, marker)

    def test_only_get_and_post_exist(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist = new_artist()
        for _method, url, _ in self.populated(api, artist):
            if url.startswith("/v1/public"):
                for other in ("PUT", "PATCH", "DELETE"):
                    assert_error(api.request(other, url.split("?")[0]), 405, "METHOD_NOT_ALLOWED")

    def test_engagement_params_are_trimmed_to_120(
        self, api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
    ) -> None:
        artist = new_artist()
        link = track_link(api, artist, upload(api, artist)["id"])
        marker = "m" * 500
        assert (
            api.get(
                f"/v1/public/track-links/{link['token']}",
                params={"visitorId": marker, "sessionId": marker, "source": marker},
            ).status_code
            == 200
        )
        events = read_events(
            suite.infra.kafka_bootstrap,
            topics.SHARE_CLICKED,
            lambda evs: any(e.payload.link_id == link["id"] for e in evs),
        )
        visitor = next(e for e in events if e.payload.link_id == link["id"]).payload.visitor
        assert (
            visitor.visitor_id == "m" * 120
            and visitor.session_id == "m" * 120
            and visitor.source == "m" * 120
        )
        default = track_link(api, artist, upload(api, artist)["id"])
        api.get(f"/v1/public/track-links/{default['token']}")
        events = read_events(
            suite.infra.kafka_bootstrap,
            topics.SHARE_CLICKED,
            lambda evs: any(e.payload.link_id == default["id"] for e in evs),
        )
        assert (
            next(e for e in events if e.payload.link_id == default["id"]).payload.visitor.source
            == "pack_link"
        )

    def test_recording_is_best_effort(
        self, api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
    ) -> None:
        """Break the outbox for real (rename the table): pages still answer, failures are
        counted. A link open's view is not lost at all: the gateway holds it and sends it
        again until sharing can store it."""
        artist = new_artist()
        link = track_link(api, artist, upload(api, artist)["id"])

        def failures() -> float:
            text = httpx.get(suite.ops_url("sharing") + "/metrics").text
            return sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("encore_engagement_record_failures_total{")
            )

        before = failures()
        run_sql(suite.infra.database_url, "alter table sharing.outbox rename to outbox_broken")
        try:
            assert api.get(f"/v1/public/track-links/{link['token']}").status_code == 200
            assert (
                api.get(f"/v1/public/track-links/{link['token']}/playback-url").status_code == 200
            )
            # the open's view goes to sharing within milliseconds: held this long, its batch
            # has been refused several times (retried 0.1 s later, doubling), and is not lost
            time.sleep(1.5)
        finally:
            run_sql(suite.infra.database_url, "alter table sharing.outbox_broken rename to outbox")
        assert failures() == before + 1  # the playback's event, recorded in the request
        eventually(lambda: link_stats(api, artist, link["id"])["views"] == 1, timeout=30)

    def test_unknown_revoked_and_expired_look_the_same(
        self, api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
    ) -> None:
        artist = new_artist()
        track = upload(api, artist)
        revoked, expired = (
            track_link(api, artist, track["id"]),
            track_link(api, artist, track["id"]),
        )
        api.delete(
            f"/v1/music/{artist.organization_id}/shares/{revoked['id']}", headers=artist.headers
        )
        run_sql(
            suite.infra.database_url,
            "update sharing.share_links set expires_at = now() - interval '1 second' where id = $1",
            expired["id"],
        )
        tokens = {
            "unknown": ids.new_share_token(),
            "revoked": revoked["token"],
            "expired": expired["token"],
        }
        shapes: dict[str, dict[str, Any]] = {}
        timings: dict[str, float] = {}
        for name, token in tokens.items():
            samples = []
            for i in range(7):
                api.headers["X-Forwarded-For"] = (
                    f"10.250.{len(shapes)}.{i}"  # stay under the guess limit
                )
                start = time.perf_counter()
                response = api.get(f"/v1/public/track-links/{token}")
                samples.append(time.perf_counter() - start)
                error = assert_error(response, 404, "TRACK_LINK_UNAVAILABLE")
            shapes[name] = {k: v for k, v in error.items() if k not in ("trace_id", "timestamp")}
            timings[name] = statistics.median(samples)
        assert shapes["unknown"] == shapes["revoked"] == shapes["expired"]
        spread = max(timings.values()) - min(timings.values())
        assert spread < 0.05, f"medians differ by {spread * 1000:.1f} ms: {timings}"

    def test_guessing_loops_are_cut_off(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist = new_artist()
        pack, _ = make_pack(api, artist, 1)
        link = share_pack(api, artist, pack["id"], access_code="correct-horse")
        statuses = [
            api.get(
                f"/v1/public/pack-links/{link['slug']}", params={"accessCode": f"guess{i}"}
            ).status_code
            for i in range(15)
        ]
        assert statuses[:10] == [403] * 10
        assert set(statuses[10:]) == {429}
        limited = api.get(
            f"/v1/public/pack-links/{link['slug']}", params={"accessCode": "correct-horse"}
        )
        error = assert_error(limited, 429, "RATE_LIMITED")
        assert (
            int(limited.headers["retry-after"]) >= 1
            and error["details"]["retry_after_seconds"] >= 1
        )

        api.headers["X-Forwarded-For"] = "10.251.0.1"
        statuses = [
            api.get(f"/v1/public/track-links/{ids.new_share_token()}").status_code
            for _ in range(35)
        ]
        assert statuses[:30] == [404] * 30 and set(statuses[30:]) == {429}
        api.headers["X-Forwarded-For"] = "10.251.0.2"
        assert (
            api.get(
                f"/v1/public/pack-links/{link['slug']}", params={"accessCode": "correct-horse"}
            ).status_code
            == 200
        ), "other clients are not affected"


@pytest.mark.parametrize(
    "path", ["/v1/public/track-links/x", "/v1/public/pack-links/x", "/v1/public/split-sheets/x"]
)
def test_public_routes_refuse_other_methods(api: httpx.Client, path: str) -> None:
    assert_error(api.delete(path), 405, "METHOD_NOT_ALLOWED")


def test_pack_replica_keeps_the_newest_version_whatever_the_event_order(suite: Suite) -> None:
    """The catalog consumer is idempotent by version: a replayed or older pack event after
    a newer one changes nothing, and a version-less (pre-version) event cannot undo one."""
    import asyncio

    from contracts.events import PackChanged
    from servicekit.db import make_engine, make_sessionmaker
    from sharing.db import replica

    pack_id = f"pack_{ids.new_ref_code()}"
    older = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    newer = older + timedelta(milliseconds=1)

    def event(title: str, track_ids: list[str], at: datetime | None) -> PackChanged:
        return PackChanged(
            action="updated",
            pack_id=pack_id,
            organization_id="org_x",
            owner_id="usr_x",
            title=title,
            track_ids=track_ids,
            updated_at=at,
        )

    async def run() -> list[tuple[str, list[str]]]:
        engine = make_engine(suite.infra.database_url, pool_size=2)
        sessions = make_sessionmaker(engine)
        seen = []
        try:
            for applied in (
                event("new", ["mtrack_b", "mtrack_a"], newer),
                event("old", ["mtrack_a"], older),  # arrives late
                event("new", ["mtrack_b", "mtrack_a"], newer),  # redelivered
                event("legacy", [], None),  # no version at all
            ):
                async with sessions.begin() as session:
                    await replica.upsert_pack(session, applied)
                async with sessions() as session:
                    row = await replica.load_pack(session, pack_id)
                seen.append((row.title, list(row.track_ids)))
            newest = event("newest", ["mtrack_c"], newer + timedelta(seconds=1))
            async with sessions.begin() as session:
                await replica.upsert_pack(session, newest)
            async with sessions() as session:
                row = await replica.load_pack(session, pack_id)
            seen.append((row.title, list(row.track_ids)))
        finally:
            await engine.dispose()
        return seen

    state = ("new", ["mtrack_b", "mtrack_a"])
    assert asyncio.run(run()) == [state, state, state, state, ("newest", ["mtrack_c"])]
