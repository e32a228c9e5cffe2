"""Catalog through the gateway on the real stack: tracks, albums, packs, split sheets."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from minio import Minio

from contracts import topics
from contracts.events import AlbumReleased
from devstack.suite import Suite
from tests.conftest import MEDIA, Artist, assert_error, eventually, join, read_events, upload

FORMATS = {
    "tone-3s.wav": "audio/wav",
    "tone-3s.mp3": "audio/mpeg",
    "tone-3s.flac": "audio/flac",
    "tone-3s.ogg": "audio/ogg",
    "tone-3s.opus": "audio/ogg",
    "tone-3s.m4a": "audio/mp4",
}


def objects_of(suite: Suite, prefix: str) -> list[str]:
    endpoint = urlparse(suite.infra.s3_endpoint)
    client = Minio(
        endpoint.netloc,
        access_key=suite.infra.s3_access_key,
        secret_key=suite.infra.s3_secret_key,
        secure=False,
    )
    return [
        o.object_name or ""
        for o in client.list_objects("encore-media", prefix=prefix, recursive=True)
    ]


@pytest.mark.parametrize(("name", "content_type"), FORMATS.items())
def test_every_audio_format_is_recognised_by_content(
    api: httpx.Client, new_artist: Callable[[], Artist], name: str, content_type: str
) -> None:
    artist = new_artist()
    track = upload(api, artist, name)
    assert track["content_type"] == content_type
    assert 2.9 <= track["duration_seconds"] <= 3.1
    assert len(track["checksum_sha256"]) == 64
    assert track["size_bytes"] == (MEDIA / name).stat().st_size


def test_patch_fields_exactly_as_spec(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    track = upload(api, artist)
    url = f"/v1/music/{artist.organization_id}/tracks/{track['id']}"
    response = api.patch(
        url,
        headers=artist.headers,
        data={
            "title": "Renamed",
            "tags": json.dumps(["ambient", "drone", "ambient"]),
            "features": json.dumps(["Guest One"]),
            "description": "liner notes",
            "support_gate": json.dumps({"type": "any", "min_cents": 100}),
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Renamed"
    assert body["tags"] == ["ambient", "drone"]
    assert body["features"] == ["Guest One"]
    assert body["description"] == "liner notes"
    assert body["support_gate"] == {"type": "any", "min_cents": 100}

    cleared = api.patch(
        url, headers=artist.headers, data={"description": "", "support_gate": "null"}
    ).json()
    assert cleared["description"] is None and cleared["support_gate"] is None
    assert cleared["title"] == "Renamed", "fields not sent stay as they are"

    for field, bad in [
        ("tags", "ambient"),
        ("tags", '{"a": 1}'),
        ("tags", "[1, 2]"),
        ("features", "x"),
        ("support_gate", "[1]"),
        ("support_gate", "nope"),
        ("title", ""),
    ]:
        error = assert_error(
            api.patch(url, headers=artist.headers, data={field: bad}), 422, "VALIDATION_ERROR"
        )
        assert field in error["details"]["fields"], (field, error)


def test_artwork_is_checked_stored_served_and_removed(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    url = f"/v1/music/{artist.organization_id}/tracks/{track['id']}"
    with (MEDIA / "cover-600.png").open("rb") as image:
        response = api.patch(
            url, headers=artist.headers, files={"image": ("x.png", image, "image/png")}
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["has_artwork"] is True
    art = httpx.get(body["artwork_url"], timeout=10)
    assert art.status_code == 200 and art.content == (MEDIA / "cover-600.png").read_bytes()
    assert any("artwork" in key for key in objects_of(suite, f"tracks/{track['id']}/"))

    for broken in ("truncated.png", "not-audio.bin"):
        with (MEDIA / broken).open("rb") as image:
            bad = api.patch(
                url, headers=artist.headers, files={"image": ("x.png", image, "image/png")}
            )
        assert_error(bad, 415, "UNSUPPORTED_MEDIA_TYPE")

    removed = api.patch(url, headers=artist.headers, data={"remove_image": "true"}).json()
    assert removed["has_artwork"] is False and removed["artwork_url"] is None
    eventually(
        lambda: not any("artwork" in key for key in objects_of(suite, f"tracks/{track['id']}/"))
    )


def test_only_the_owner_edits_or_deletes(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    owner, colleague = new_artist(), new_artist()
    label = api.post("/v1/organizations", headers=owner.headers, json={"name": "Label"}).json()
    join(api, owner, label["id"], colleague)
    owner_in_label = Artist(owner.user_id, owner.handle, label["id"], owner.api_key)
    colleague_in_label = Artist(colleague.user_id, colleague.handle, label["id"], colleague.api_key)
    track = upload(api, owner_in_label)
    url = f"/v1/music/{label['id']}/tracks/{track['id']}"
    assert api.get(url, headers=colleague_in_label.headers).status_code == 200, "members can read"
    assert_error(
        api.patch(url, headers=colleague.headers, data={"title": "mine now"}),
        404,
        "RESOURCE_NOT_FOUND",
    )
    assert_error(api.delete(url, headers=colleague.headers), 404, "RESOURCE_NOT_FOUND")
    assert api.get(url, headers=owner.headers).json()["title"] == "Tone"


def test_delete_removes_objects_leaves_album_and_stops_links(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    artist = new_artist()
    album = api.post(
        f"/v1/music/{artist.organization_id}/albums",
        headers=artist.headers,
        json={"title": "Gone Soon"},
    ).json()
    track = upload(api, artist, album_id=album["id"])
    keep = upload(api, artist, album_id=album["id"])
    api.post(
        f"/v1/music/{artist.organization_id}/albums/{album['id']}/finalize",
        headers=artist.headers,
        json={"track_ids": [track["id"], keep["id"]]},
    )
    link = api.post(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/share", headers=artist.headers
    ).json()
    assert api.get(f"/v1/public/track-links/{link['token']}").status_code == 200
    assert objects_of(suite, f"tracks/{track['id']}/")

    deleted = api.delete(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}", headers=artist.headers
    )
    assert deleted.status_code == 200, deleted.text
    assert_error(
        api.get(f"/v1/music/{artist.organization_id}/tracks/{track['id']}", headers=artist.headers),
        404,
        "RESOURCE_NOT_FOUND",
    )
    eventually(lambda: objects_of(suite, f"tracks/{track['id']}/") == [])
    eventually(lambda: api.get(f"/v1/public/track-links/{link['token']}").status_code == 404)
    page = api.get(
        f"/v1/music/{artist.organization_id}/albums/{album['id']}", headers=artist.headers
    ).json()
    assert [t["id"] for t in page["tracks"]] == [keep["id"]]


def test_private_tracks_are_not_public(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    track = upload(api, artist)
    assert api.get(f"/v1/tracks/{track['id']}").status_code == 200
    api.patch(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}",
        headers=artist.headers,
        data={"visibility": "private"},
    )
    eventually(lambda: api.get(f"/v1/tracks/{track['id']}").status_code == 404, timeout=5)
    assert api.get(f"/v1/tracks/{track['id']}", headers=artist.headers).status_code == 200, (
        "the owner still sees it"
    )


def test_public_payloads_never_name_storage(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    album = api.post(
        f"/v1/music/{artist.organization_id}/albums",
        headers=artist.headers,
        json={"title": "Plain"},
    ).json()
    track = upload(api, artist, album_id=album["id"])
    with (MEDIA / "cover-64.webp").open("rb") as image:
        api.post(
            f"/v1/music/{artist.organization_id}/albums/{album['id']}/cover",
            headers=artist.headers,
            files={"image": ("c.webp", image)},
        )
    api.post(
        f"/v1/music/{artist.organization_id}/albums/{album['id']}/finalize",
        headers=artist.headers,
        json={"track_ids": [track["id"]]},
    )
    bodies = [
        api.get(f"/v1/tracks/{track['id']}").text,
        api.get("/v1/albums").text,
        api.get(f"/v1/artists/{artist.handle}/albums").text,
        api.get(f"/v1/albums/{artist.handle}/{album['slug']}").text,
    ]
    for text in bodies:
        for marker in (
            "s3://",
            "encore-media",
            "tracks/mtrack_",
            "albums/alb_",
            "owner_id",
            artist.user_id,
        ):
            assert marker not in text, marker


class TestAlbums:
    def base(self, artist: Artist) -> str:
        return f"/v1/music/{artist.organization_id}/albums"

    def test_create_is_idempotent_on_slug(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist = new_artist()
        first = api.post(self.base(artist), headers=artist.headers, json={"title": "Night Drive"})
        assert first.status_code == 201, first.text
        assert first.json()["slug"] == "night-drive"
        again = api.post(self.base(artist), headers=artist.headers, json={"title": "Night  Drive!"})
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]

        def create(_: int) -> str:
            return str(
                api.post(
                    self.base(artist), headers=artist.headers, json={"title": "Racing"}
                ).json()["id"]
            )

        with ThreadPoolExecutor(8) as pool:
            assert len(set(pool.map(create, range(16)))) == 1
        listed = api.get(self.base(artist), headers=artist.headers).json()
        assert sorted(a["slug"] for a in listed["items"]) == ["night-drive", "racing"]
        assert (listed["total"], listed["limit"], listed["offset"]) == (2, 20, 0)
        second = api.get(
            self.base(artist), headers=artist.headers, params={"limit": 1, "offset": 1}
        )
        assert [a["slug"] for a in second.json()["items"]] == ["night-drive"]
        assert second.json()["total"] == 2

    def test_finalize_rules_and_order(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist, other = new_artist(), new_artist()
        album = api.post(self.base(artist), headers=artist.headers, json={"title": "Order"}).json()
        a, b, c = (upload(api, artist, album_id=album["id"], title=t) for t in "ABC")
        loose = upload(api, artist)
        foreign = upload(api, other)
        url = f"{self.base(artist)}/{album['id']}/finalize"

        bad = api.post(
            url,
            headers=artist.headers,
            json={"track_ids": [a["id"], loose["id"], foreign["id"], "mtrack_nope"]},
        )
        error = assert_error(bad, 422, "VALIDATION_ERROR")
        assert error["details"]["track_ids"] == [loose["id"], foreign["id"], "mtrack_nope"]

        first = api.post(url, headers=artist.headers, json={"track_ids": [b["id"], a["id"]]})
        assert first.status_code == 200, first.text
        assert [t["title"] for t in first.json()["tracks"]][:2] == ["B", "A"]
        released_at = first.json()["released_at"]
        assert released_at

        same = api.post(url, headers=artist.headers, json={"track_ids": [b["id"], a["id"]]}).json()
        assert [t["id"] for t in same["tracks"]] == [t["id"] for t in first.json()["tracks"]]
        assert same["released_at"] == released_at, "released once, never moved"

        more = api.post(url, headers=artist.headers, json={"track_ids": [c["id"], a["id"]]}).json()
        assert [t["title"] for t in more["tracks"]] == ["B", "A", "C"], (
            "existing keep places, new ones append"
        )

    def test_a_hundred_concurrent_finalizes_release_once(
        self, api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
    ) -> None:
        artist = new_artist()
        album = api.post(self.base(artist), headers=artist.headers, json={"title": "Rush"}).json()
        track = upload(api, artist, album_id=album["id"])
        sentinel_album = api.post(
            self.base(artist), headers=artist.headers, json={"title": "After Rush"}
        ).json()
        sentinel_track = upload(api, artist, album_id=sentinel_album["id"])
        url = f"{self.base(artist)}/{album['id']}/finalize"

        def finalize(_: int) -> int:
            with httpx.Client(base_url=suite.gateway_url, timeout=30) as client:
                return client.post(
                    url, headers=artist.headers, json={"track_ids": [track["id"]]}
                ).status_code

        with ThreadPoolExecutor(100) as pool:
            statuses = list(pool.map(finalize, range(100)))
        assert statuses == [200] * 100
        # a later release on another album is the sentinel: once it is on the topic, every
        # release of the first album (written before it) is there too
        api.post(
            f"{self.base(artist)}/{sentinel_album['id']}/finalize",
            headers=artist.headers,
            json={"track_ids": [sentinel_track["id"]]},
        )
        events = read_events(
            suite.infra.kafka_bootstrap,
            topics.CATALOG_LIFECYCLE,
            lambda evs: any(
                isinstance(e.payload, AlbumReleased) and e.payload.album_id == sentinel_album["id"]
                for e in evs
            ),
            timeout=30,
        )
        releases = [
            e
            for e in events
            if isinstance(e.payload, AlbumReleased) and e.payload.album_id == album["id"]
        ]
        assert len(releases) == 1
        assert releases[0].payload.track_ids == [track["id"]]

    def test_cover_rename_remove_and_delete(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist = new_artist()
        album = api.post(
            self.base(artist), headers=artist.headers, json={"title": "First Name"}
        ).json()
        one, two = (
            upload(api, artist, album_id=album["id"]),
            upload(api, artist, album_id=album["id"]),
        )
        api.post(
            f"{self.base(artist)}/{album['id']}/finalize",
            headers=artist.headers,
            json={"track_ids": [one["id"], two["id"]]},
        )
        with (MEDIA / "cover-1200.jpg").open("rb") as image:
            cover = api.post(
                f"{self.base(artist)}/{album['id']}/cover",
                headers=artist.headers,
                files={"image": ("c.jpg", image)},
            )
        assert cover.status_code == 200, cover.text
        assert (
            httpx.get(cover.json()["cover_url"], timeout=10).content
            == (MEDIA / "cover-1200.jpg").read_bytes()
        )
        with (MEDIA / "tone-3s.mp3").open("rb") as not_image:
            assert_error(
                api.post(
                    f"{self.base(artist)}/{album['id']}/cover",
                    headers=artist.headers,
                    files={"image": ("c.jpg", not_image)},
                ),
                415,
                "UNSUPPORTED_MEDIA_TYPE",
            )

        renamed = api.patch(
            f"{self.base(artist)}/{album['id']}",
            headers=artist.headers,
            json={"title": "Second Name", "description": "notes"},
        )
        assert renamed.status_code == 200 and renamed.json()["slug"] == "second-name"
        new_page = eventually(
            lambda: (
                (r := api.get(f"/v1/albums/{artist.handle}/second-name")).status_code == 200
                and r.json()
            )
        )
        assert new_page["title"] == "Second Name" and new_page["description"] == "notes"
        old_page = api.get(f"/v1/albums/{artist.handle}/first-name")
        assert old_page.status_code == 200 and old_page.json()["slug"] == "second-name", (
            "the old slug finds the album"
        )

        removed = api.delete(
            f"{self.base(artist)}/{album['id']}/tracks/{one['id']}", headers=artist.headers
        )
        assert removed.status_code == 200
        standalone = api.get(
            f"/v1/music/{artist.organization_id}/tracks/{one['id']}", headers=artist.headers
        ).json()
        assert standalone["album_id"] is None

        kept = api.delete(
            f"{self.base(artist)}/{album['id']}",
            headers=artist.headers,
            params={"cascade": "false"},
        )
        assert kept.status_code == 200
        assert (
            api.get(
                f"/v1/music/{artist.organization_id}/tracks/{two['id']}", headers=artist.headers
            ).json()["album_id"]
            is None
        )

        doomed_album = api.post(
            self.base(artist), headers=artist.headers, json={"title": "Cascade"}
        ).json()
        doomed = upload(api, artist, album_id=doomed_album["id"])
        assert (
            api.delete(
                f"{self.base(artist)}/{doomed_album['id']}",
                headers=artist.headers,
                params={"cascade": "true"},
            ).status_code
            == 200
        )
        assert (
            api.get(
                f"/v1/music/{artist.organization_id}/tracks/{doomed['id']}", headers=artist.headers
            ).status_code
            == 404
        )

    def test_public_listings(self, api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
        artist = new_artist()
        empty = api.post(
            self.base(artist), headers=artist.headers, json={"title": "Empty Shell"}
        ).json()
        full = api.post(self.base(artist), headers=artist.headers, json={"title": "Full"}).json()
        x, y = (
            upload(api, artist, album_id=full["id"], title="X"),
            upload(api, artist, album_id=full["id"], title="Y"),
        )
        api.post(
            f"{self.base(artist)}/{full['id']}/finalize",
            headers=artist.headers,
            json={"track_ids": [y["id"], x["id"]]},
        )

        def listed() -> list[str]:
            return [a["id"] for a in api.get(f"/v1/artists/{artist.handle}/albums").json()["items"]]

        assert eventually(lambda: listed() == [full["id"]])
        assert empty["id"] not in [a["id"] for a in api.get("/v1/albums").json()["items"]]
        page = api.get(f"/v1/albums/{artist.handle}/full").json()
        assert [t["title"] for t in page["tracks"]] == ["Y", "X"]
        assert api.get(f"/v1/albums/{artist.handle}/empty-shell").status_code == 404

    def test_cached_reads_follow_updates_quickly(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        """The cache TTL is 30 s; seeing the change well within 5 s proves event invalidation."""
        artist = new_artist()
        album = api.post(self.base(artist), headers=artist.headers, json={"title": "Cached"}).json()
        track = upload(api, artist, album_id=album["id"], title="Before")
        api.post(
            f"{self.base(artist)}/{album['id']}/finalize",
            headers=artist.headers,
            json={"track_ids": [track["id"]]},
        )
        assert eventually(lambda: api.get(f"/v1/albums/{artist.handle}/cached").status_code == 200)
        assert api.get(f"/v1/tracks/{track['id']}").json()["title"] == "Before"  # now cached
        api.patch(
            f"/v1/music/{artist.organization_id}/tracks/{track['id']}",
            headers=artist.headers,
            data={"title": "After"},
        )
        eventually(
            lambda: api.get(f"/v1/tracks/{track['id']}").json()["title"] == "After", timeout=5
        )
        eventually(
            lambda: (
                api.get(f"/v1/albums/{artist.handle}/cached").json()["tracks"][0]["title"]
                == "After"
            ),
            timeout=5,
        )


class TestPacks:
    def test_pack_lifecycle(self, api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
        artist, other = new_artist(), new_artist()
        a, b, c = (upload(api, artist, title=t) for t in "ABC")
        foreign = upload(api, other)
        base = f"/v1/music/{artist.organization_id}/packs"
        error = assert_error(
            api.post(
                base,
                headers=artist.headers,
                json={"title": "Beat pack", "track_ids": [a["id"], foreign["id"]]},
            ),
            422,
            "VALIDATION_ERROR",
        )
        assert error["details"]["track_ids"] == [foreign["id"]]

        pack = api.post(
            base,
            headers=artist.headers,
            json={"title": "Beat pack", "track_ids": [a["id"], b["id"]]},
        )
        assert pack.status_code == 201, pack.text
        pack_id = pack.json()["id"]
        assert pack_id.startswith("mpack_")
        added = api.post(
            f"{base}/{pack_id}/tracks",
            headers=artist.headers,
            json={"track_ids": [c["id"], a["id"]]},
        ).json()
        assert added["track_ids"] == [a["id"], b["id"], c["id"]]
        reordered = api.put(
            f"{base}/{pack_id}/tracks",
            headers=artist.headers,
            json={"track_ids": [c["id"], a["id"], b["id"]]},
        )
        assert reordered.json()["track_ids"] == [c["id"], a["id"], b["id"]]
        assert_error(
            api.put(
                f"{base}/{pack_id}/tracks",
                headers=artist.headers,
                json={"track_ids": [c["id"], a["id"]]},
            ),
            422,
            "VALIDATION_ERROR",
        )
        removed = api.delete(f"{base}/{pack_id}/tracks/{a['id']}", headers=artist.headers).json()
        assert removed["track_ids"] == [c["id"], b["id"]]
        updated = api.patch(
            f"{base}/{pack_id}",
            headers=artist.headers,
            json={"title": "Promo", "description": "for DJs"},
        ).json()
        assert updated["title"] == "Promo" and updated["description"] == "for DJs"
        listed = api.get(base, headers=artist.headers).json()
        assert [p["id"] for p in listed["items"]] == [pack_id] and listed["total"] == 1
        assert_error(
            api.delete(f"{base}/{pack_id}", headers=other.headers), 404, "RESOURCE_NOT_FOUND"
        )
        assert api.delete(f"{base}/{pack_id}", headers=artist.headers).status_code == 200
        assert_error(
            api.get(f"{base}/{pack_id}", headers=artist.headers), 404, "RESOURCE_NOT_FOUND"
        )


class TestSplitSheets:
    def test_percentages_must_sum_to_exactly_100(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist = new_artist()
        track = upload(api, artist)
        url = f"/v1/music/{artist.organization_id}/tracks/{track['id']}/split-sheet"
        thirds: list[dict[str, Any]] = [
            {"name": "Ada", "role": "composer", "percentage": "33.33"},
            {"name": "Bo", "role": "producer", "percentage": 33.33},
            {"name": "Cy", "user_handle": artist.handle, "role": "lyricist", "percentage": "33.34"},
        ]
        created = api.put(url, headers=artist.headers, json={"contributors": thirds})
        assert created.status_code == 200, created.text
        assert [c["percentage"] for c in created.json()["contributors"]] == [
            "33.33",
            "33.33",
            "33.34",
        ]
        assert created.json()["status"] == "draft"

        short = [{**c, "percentage": "33.33"} for c in thirds]
        error = assert_error(
            api.put(url, headers=artist.headers, json={"contributors": short}),
            422,
            "VALIDATION_ERROR",
        )
        assert error["details"]["sum"] == "99.99"
        for bad in ("0", "-5", "100.5", "12.345", "abc"):
            assert_error(
                api.put(
                    url,
                    headers=artist.headers,
                    json={"contributors": [{"name": "x", "role": "r", "percentage": bad}]},
                ),
                422,
                "VALIDATION_ERROR",
            )
        assert (
            api.get(url, headers=artist.headers).json()["contributors"][2]["percentage"] == "33.34"
        ), "bad input lost nothing"

    def test_status_moves_forward_and_signed_is_final(
        self, api: httpx.Client, new_artist: Callable[[], Artist]
    ) -> None:
        artist = new_artist()
        track = upload(api, artist)
        url = f"/v1/music/{artist.organization_id}/tracks/{track['id']}/split-sheet"
        api.put(
            url,
            headers=artist.headers,
            json={"contributors": [{"name": "Solo", "role": "all", "percentage": 100}]},
        )
        assert_error(
            api.post(f"{url}/status", headers=artist.headers, json={"status": "signed"}),
            409,
            "CONFLICT",
        )
        assert (
            api.post(f"{url}/status", headers=artist.headers, json={"status": "sent"}).json()[
                "status"
            ]
            == "sent"
        )
        assert (
            api.post(f"{url}/status", headers=artist.headers, json={"status": "signed"}).json()[
                "status"
            ]
            == "signed"
        )
        for target in ("draft", "sent"):
            assert_error(
                api.post(f"{url}/status", headers=artist.headers, json={"status": target}),
                409,
                "CONFLICT",
            )
        assert_error(
            api.put(
                url,
                headers=artist.headers,
                json={"contributors": [{"name": "Other", "role": "all", "percentage": 100}]},
            ),
            409,
            "CONFLICT",
        )
        assert_error(
            api.post(f"{url}/status", headers=artist.headers, json={"status": "lost"}),
            422,
            "VALIDATION_ERROR",
        )


def test_split_sheet_decimals_read_as_people_write_them(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """A sheet summing to 80 reported `"sum": "8E+1"`; `9E+1` was stored as written
    (issue 14, item 13)."""
    artist = new_artist()
    track = upload(api, artist)
    url = f"/v1/music/{artist.organization_id}/tracks/{track['id']}/split-sheet"
    eighty = [
        {"name": "Ada", "role": "composer", "percentage": "40.00"},
        {"name": "Bo", "role": "producer", "percentage": 40},
    ]
    error = assert_error(
        api.put(url, headers=artist.headers, json={"contributors": eighty}),
        422,
        "VALIDATION_ERROR",
    )
    assert error["details"]["sum"] == "80"
    written = [
        {"name": "Ada", "role": "composer", "percentage": "9E+1"},
        {"name": "Bo", "role": "producer", "percentage": 1e1},
    ]
    saved = api.put(url, headers=artist.headers, json={"contributors": written})
    assert saved.status_code == 200, saved.text
    assert [c["percentage"] for c in saved.json()["contributors"]] == ["90", "10"]
    assert [
        c["percentage"] for c in api.get(url, headers=artist.headers).json()["contributors"]
    ] == ["90", "10"]
    link = api.post(f"{url}/share", headers=artist.headers, json={}).json()
    public = api.get(f"/v1/public/split-sheets/{link['token']}").json()
    assert [c["percentage"] for c in public["splitSheet"]["contributors"]] == ["90", "10"]
