"""Artwork sizes (SPEC §7) end to end: real Postgres, Kafka, S3 and the storage sweeper.

Track artwork and album covers get WebP sizes at upload; payloads carry signed gateway URLs
of them (never storage keys); replacing or removing the image removes the old objects."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image

from catalog.service.artwork_backfill import backfill_artwork
from catalog.settings import CatalogSettings
from catalog.storage import MediaStorage
from devstack.suite import Suite
from servicekit.db import make_engine, make_sessionmaker
from tests.conftest import MEDIA, Artist, assert_error, eventually, run_sql, upload
from tests.test_catalog import objects_of

pytestmark = pytest.mark.e2e

SIZES = [64, 300, 1200]


def size_objects(suite: Suite, prefix: str) -> set[str]:
    return {key for key in objects_of(suite, prefix) if "/artwork/" in key}


def check_sizes(sizes: list[dict[str, Any]], original_side: int) -> None:
    """Every size URL serves a WebP fitted in its box, never upscaled past the original."""
    assert [s["size"] for s in sizes] == SIZES
    for item in sizes:
        assert item["content_type"] == "image/webp"
        assert "/artwork/" not in item["url"] and ".webp" not in item["url"], item["url"]
        served = httpx.get(item["url"], timeout=10)
        assert served.status_code == 200, served.text
        assert served.headers["content-type"].startswith("image/webp")
        with Image.open(io.BytesIO(served.content)) as image:
            assert image.format == "WEBP"
            side = min(item["size"], original_side)
            assert image.size == (side, side), (item["size"], image.size)


def set_image(api: httpx.Client, artist: Artist, url: str, name: str) -> httpx.Response:
    with (MEDIA / name).open("rb") as image:
        return api.patch(
            url, headers=artist.headers, files={"image": (name, image, "application/octet-stream")}
        )


def test_track_artwork_sizes_appear_serve_webp_and_old_ones_go(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    assert track["artwork_sizes"] == []
    url = f"/v1/music/{artist.organization_id}/tracks/{track['id']}"
    prefix = f"tracks/{track['id']}/"

    first = set_image(api, artist, url, "cover-600.png")
    assert first.status_code == 200, first.text
    check_sizes(first.json()["artwork_sizes"], 600)
    check_sizes(api.get(url, headers=artist.headers).json()["artwork_sizes"], 600)
    old = size_objects(suite, prefix)
    assert len(old) == 3

    second = set_image(api, artist, url, "cover-1200.jpg")
    assert second.status_code == 200, second.text
    check_sizes(second.json()["artwork_sizes"], 1200)
    eventually(
        lambda: len(size_objects(suite, prefix)) == 3 and not size_objects(suite, prefix) & old
    )

    # a broken image changes nothing: the sizes of the current artwork stay
    assert_error(set_image(api, artist, url, "truncated.png"), 415, "UNSUPPORTED_MEDIA_TYPE")
    kept = api.get(url, headers=artist.headers).json()["artwork_sizes"]
    check_sizes(kept, 1200)
    assert len(size_objects(suite, prefix)) == 3

    removed = api.patch(url, headers=artist.headers, data={"remove_image": "true"})
    assert removed.status_code == 200, removed.text
    assert removed.json()["artwork_sizes"] == []
    eventually(lambda: not size_objects(suite, prefix))
    assert httpx.get(kept[0]["url"], timeout=10).status_code == 404


def test_album_cover_sizes_in_album_payloads_and_replaced(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    artist = new_artist()
    base = f"/v1/music/{artist.organization_id}/albums"
    album = api.post(base, headers=artist.headers, json={"title": "Sizes"}).json()
    assert album["cover_sizes"] == []
    prefix = f"albums/{album['id']}/"

    def set_cover(name: str) -> dict[str, Any]:
        with (MEDIA / name).open("rb") as image:
            response = api.post(
                f"{base}/{album['id']}/cover",
                headers=artist.headers,
                files={"image": (name, image)},
            )
        assert response.status_code == 200, response.text
        return dict(response.json())

    check_sizes(set_cover("cover-1200.jpg")["cover_sizes"], 1200)
    detail = api.get(f"{base}/{album['id']}", headers=artist.headers).json()
    check_sizes(detail["cover_sizes"], 1200)
    old = size_objects(suite, prefix)
    assert len(old) == 3

    check_sizes(set_cover("cover-600.png")["cover_sizes"], 600)
    eventually(
        lambda: len(size_objects(suite, prefix)) == 3 and not size_objects(suite, prefix) & old
    )

    deleted = api.delete(f"{base}/{album['id']}", headers=artist.headers)
    assert deleted.status_code == 200, deleted.text
    eventually(lambda: not size_objects(suite, prefix))


def test_deleting_a_track_removes_its_artwork_sizes(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    url = f"/v1/music/{artist.organization_id}/tracks/{track['id']}"
    assert set_image(api, artist, url, "cover-64.webp").status_code == 200
    prefix = f"tracks/{track['id']}/"
    assert len(size_objects(suite, prefix)) == 3
    assert api.delete(url, headers=artist.headers).status_code == 200
    eventually(lambda: not size_objects(suite, prefix))


def run_artwork_backfill(suite: Suite) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "catalog.cli", "backfill-artwork", "--quiet"],
        env={**os.environ, **suite.env(), "ENCORE_DATABASE_URL": suite.database_url("catalog")},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


async def backfill_in_process(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name, value in {
        **suite.env(),
        "ENCORE_DATABASE_URL": suite.database_url("catalog"),
    }.items():
        monkeypatch.setenv(name, value)
    settings = CatalogSettings()
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        summary = await backfill_artwork(
            make_sessionmaker(engine), MediaStorage(settings), show=False
        )
    finally:
        await engine.dispose()
    return summary.as_json()


def test_backfill_makes_the_sizes_of_images_from_before_sizes_once(
    api: httpx.Client,
    new_artist: Callable[[], Artist],
    suite: Suite,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    url = f"/v1/music/{artist.organization_id}/tracks/{track['id']}"
    assert set_image(api, artist, url, "cover-600.png").status_code == 200
    albums = f"/v1/music/{artist.organization_id}/albums"
    album = api.post(albums, headers=artist.headers, json={"title": "Old cover"}).json()
    with (MEDIA / "cover-1200.jpg").open("rb") as image:
        covered = api.post(
            f"{albums}/{album['id']}/cover", headers=artist.headers, files={"image": image}
        )
    assert covered.status_code == 200, covered.text
    broken = upload(api, artist)  # its "image" will be an object that is not an image
    catalog_db = suite.database_url("catalog")
    # as rows from before migration 0004 look: an original, no sizes (and no size objects)
    run_sql(catalog_db, "UPDATE catalog.tracks SET artwork_sizes = NULL WHERE id = $1", track["id"])
    run_sql(catalog_db, "UPDATE catalog.albums SET cover_sizes = NULL WHERE id = $1", album["id"])
    run_sql(
        catalog_db,
        "UPDATE catalog.tracks SET artwork_key = audio_key, artwork_content_type = 'image/png'"
        " WHERE id = $1",
        broken["id"],
    )
    assert api.get(url, headers=artist.headers).json()["artwork_sizes"] == []
    before = size_objects(suite, f"tracks/{track['id']}/") | size_objects(
        suite, f"albums/{album['id']}/"
    )

    summary = run_artwork_backfill(suite)
    assert summary["sized"] >= 2 and summary["failed"] >= 1, summary
    reasons = {failure["id"]: failure["reason"] for failure in summary["failures"]}
    assert "not an image we can read" in reasons[broken["id"]], reasons
    check_sizes(api.get(url, headers=artist.headers).json()["artwork_sizes"], 600)
    detail = api.get(f"{albums}/{album['id']}", headers=artist.headers).json()
    check_sizes(detail["cover_sizes"], 1200)
    assert (
        api.get(f"{url[: url.rindex('/')]}/{broken['id']}", headers=artist.headers).json()[
            "artwork_sizes"
        ]
        == []
    )
    made = (
        size_objects(suite, f"tracks/{track['id']}/")
        | size_objects(suite, f"albums/{album['id']}/")
    ) - before
    assert len(made) == 6

    # again (in process: one interpreter start is enough): nothing left for these two
    again = asyncio.run(backfill_in_process(suite, monkeypatch))
    assert not {track["id"], album["id"]} & {f["id"] for f in again["failures"]}
    assert any(failure["id"] == broken["id"] for failure in again["failures"])
    after = size_objects(suite, f"tracks/{track['id']}/") | size_objects(
        suite, f"albums/{album['id']}/"
    )
    assert after == before | made
    check_sizes(api.get(url, headers=artist.headers).json()["artwork_sizes"], 600)
