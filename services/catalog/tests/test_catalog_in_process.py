"""Catalog in process: its own app (`create_app`) on a real Postgres through an ASGI test
client, without S3, Kafka or any other service. Tracks are written to the table as an
upload leaves them (an upload itself needs storage: the end-to-end tests cover it), then
albums, packs, split sheets and tracks go through the API, and the events each change
would publish are read from the outbox they were written to, in the same transaction."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.app import create_app
from catalog.db.models import outbox
from catalog.db.tracks import insert_track
from catalog.settings import CatalogSettings
from devstack.processes import free_port

Headers = Callable[..., dict[str, str]]


@pytest.fixture
async def api(
    service_settings: dict[str, Any], in_process: Any
) -> AsyncIterator[httpx.AsyncClient]:
    settings = CatalogSettings(
        **service_settings,
        s3_endpoint=f"http://127.0.0.1:{free_port()}",  # no storage: nothing here may need it
    )
    async with in_process(create_app(settings)) as client:
        yield client


class Artist:
    def __init__(self, acting_as: Headers) -> None:
        self.user_id = f"usr_{uuid.uuid4().hex[:12]}"
        self.org = f"org_{uuid.uuid4().hex[:12]}"
        self.handle = "a" + secrets.token_hex(4)
        self.headers = acting_as(self.user_id, self.handle)


@pytest.fixture
def artist(acting_as: Headers) -> Artist:
    return Artist(acting_as)


async def seed_track(
    sessions: async_sessionmaker[AsyncSession], artist: Artist, **values: Any
) -> str:
    """A track row as an upload and the media worker leave it."""
    track_id = f"trk_{uuid.uuid4().hex[:16]}"
    async with sessions() as session, session.begin():
        await insert_track(
            session,
            {
                "id": track_id,
                "organization_id": artist.org,
                "owner_id": artist.user_id,
                "owner_handle": artist.handle,
                "title": "Tone",
                "audio_key": f"tracks/{track_id}/audio.mp3",
                "content_type": "audio/mpeg",
                "size_bytes": 1000,
                "duration_seconds": 3.0,
                "checksum_sha256": "0" * 64,
                "processing_state": "ready",
                **values,
            },
        )
    return track_id


def error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["code"])


# --- albums ------------------------------------------------------------------------------


async def test_an_album_is_found_again_by_its_slug(api: httpx.AsyncClient, artist: Artist) -> None:
    path = f"/internal/orgs/{artist.org}/albums"
    created = await api.post(path, json={"title": "Late Summer"}, headers=artist.headers)
    assert created.status_code == 201, created.text
    assert created.json()["slug"] == "late-summer"
    again = await api.post(path, json={"title": "Late  Summer!"}, headers=artist.headers)
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    listed = await api.get(path, headers=artist.headers)
    assert [a["id"] for a in listed.json()["items"]] == [created.json()["id"]]


async def test_concurrent_finalizes_release_an_album_once(
    api: httpx.AsyncClient,
    artist: Artist,
    sessions: async_sessionmaker[AsyncSession],
    outbox_events: Any,
) -> None:
    album = await api.post(
        f"/internal/orgs/{artist.org}/albums", json={"title": "Twice"}, headers=artist.headers
    )
    album_id = album.json()["id"]
    tracks = [await seed_track(sessions, artist, album_id=album_id) for _ in range(3)]
    finalize = f"/internal/orgs/{artist.org}/albums/{album_id}/finalize"
    answers = await asyncio.gather(
        *(api.post(finalize, json={"track_ids": tracks}, headers=artist.headers) for _ in range(5))
    )
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    assert [t["id"] for t in answers[-1].json()["tracks"]] == tracks
    released = await outbox_events(outbox, "album.released", album_id=album_id)
    assert len(released) == 1 and released[0]["payload"]["track_ids"] == tracks


async def test_finalize_names_the_tracks_that_are_not_the_albums(
    api: httpx.AsyncClient, artist: Artist, sessions: async_sessionmaker[AsyncSession]
) -> None:
    album = await api.post(
        f"/internal/orgs/{artist.org}/albums", json={"title": "Strict"}, headers=artist.headers
    )
    album_id = album.json()["id"]
    mine = await seed_track(sessions, artist, album_id=album_id)
    loose = await seed_track(sessions, artist)
    response = await api.post(
        f"/internal/orgs/{artist.org}/albums/{album_id}/finalize",
        json={"track_ids": [mine, loose]},
        headers=artist.headers,
    )
    assert error_code(response, 422) == "VALIDATION_ERROR"
    assert response.json()["error"]["details"]["track_ids"] == [loose]
    repeated = await api.post(
        f"/internal/orgs/{artist.org}/albums/{album_id}/finalize",
        json={"track_ids": [mine, mine]},
        headers=artist.headers,
    )
    assert error_code(repeated, 422) == "VALIDATION_ERROR"


# --- packs -------------------------------------------------------------------------------


async def test_a_pack_holds_only_its_owners_tracks_in_their_order(
    api: httpx.AsyncClient,
    artist: Artist,
    acting_as: Headers,
    sessions: async_sessionmaker[AsyncSession],
    outbox_events: Any,
) -> None:
    first, second = await seed_track(sessions, artist), await seed_track(sessions, artist)
    someone = Artist(acting_as)
    theirs = await seed_track(sessions, someone)
    packs = f"/internal/orgs/{artist.org}/packs"

    refused = await api.post(
        packs, json={"title": "Demo", "track_ids": [first, theirs]}, headers=artist.headers
    )
    assert error_code(refused, 422) == "VALIDATION_ERROR"
    assert refused.json()["error"]["details"]["track_ids"] == [theirs]

    created = await api.post(
        packs, json={"title": " Demo ", "track_ids": [second, first]}, headers=artist.headers
    )
    assert created.status_code == 201, created.text
    pack = created.json()
    assert (pack["title"], pack["track_ids"]) == ("Demo", [second, first])
    reordered = await api.put(
        f"{packs}/{pack['id']}/tracks", json={"track_ids": [first, second]}, headers=artist.headers
    )
    assert reordered.status_code == 200, reordered.text
    assert reordered.json()["track_ids"] == [first, second]

    events = await outbox_events(outbox, "pack.changed", pack_id=pack["id"])
    assert [(e["payload"]["action"], e["payload"]["track_ids"]) for e in events] == [
        ("created", [second, first]),
        ("updated", [first, second]),
    ]
    versions = [e["payload"]["updated_at"] for e in events]
    assert versions == sorted(versions) and versions[0] != versions[1], "each event a version"

    # another member sees it (same organization) but cannot change it
    other = acting_as(f"usr_{uuid.uuid4().hex[:8]}", "other")
    assert (await api.get(f"{packs}/{pack['id']}", headers=other)).status_code == 200
    renamed = await api.patch(f"{packs}/{pack['id']}", json={"title": "Mine"}, headers=other)
    assert error_code(renamed, 404) == "RESOURCE_NOT_FOUND"


async def test_a_deleted_pack_is_announced_and_gone(
    api: httpx.AsyncClient,
    artist: Artist,
    sessions: async_sessionmaker[AsyncSession],
    outbox_events: Any,
) -> None:
    track = await seed_track(sessions, artist)
    packs = f"/internal/orgs/{artist.org}/packs"
    pack = (
        await api.post(packs, json={"title": "Gone", "track_ids": [track]}, headers=artist.headers)
    ).json()
    deleted = await api.delete(f"{packs}/{pack['id']}", headers=artist.headers)
    assert deleted.status_code == 200, deleted.text
    assert error_code(await api.get(f"{packs}/{pack['id']}", headers=artist.headers), 404)
    actions = [
        e["payload"]["action"]
        for e in await outbox_events(outbox, "pack.changed", pack_id=pack["id"])
    ]
    assert actions == ["created", "deleted"]


# --- split sheets ------------------------------------------------------------------------


async def test_split_sheet_percentages_must_sum_to_exactly_100(
    api: httpx.AsyncClient, artist: Artist, sessions: async_sessionmaker[AsyncSession]
) -> None:
    track = await seed_track(sessions, artist)
    sheet = f"/internal/orgs/{artist.org}/tracks/{track}/split-sheet"

    def contributors(*percentages: Any) -> dict[str, Any]:
        return {
            "contributors": [
                {"name": f"C{i}", "role": "writer", "percentage": p}
                for i, p in enumerate(percentages)
            ]
        }

    short = await api.put(
        sheet, json=contributors("33.33", "33.33", "33.33"), headers=artist.headers
    )
    assert error_code(short, 422) == "VALIDATION_ERROR"
    fine = await api.put(
        sheet, json=contributors("33.33", "33.33", "33.34"), headers=artist.headers
    )
    assert fine.status_code == 200, fine.text
    assert [c["percentage"] for c in fine.json()["contributors"]] == ["33.33", "33.33", "33.34"]
    too_precise = await api.put(
        sheet, json=contributors("50.005", "49.995"), headers=artist.headers
    )
    assert error_code(too_precise, 422) == "VALIDATION_ERROR"


async def test_a_split_sheet_moves_draft_sent_signed_and_a_signed_one_is_final(
    api: httpx.AsyncClient,
    artist: Artist,
    sessions: async_sessionmaker[AsyncSession],
    outbox_events: Any,
) -> None:
    track = await seed_track(sessions, artist)
    sheet = f"/internal/orgs/{artist.org}/tracks/{track}/split-sheet"
    body = {"contributors": [{"name": "Ada", "role": "writer", "percentage": 100}]}
    assert (await api.put(sheet, json=body, headers=artist.headers)).status_code == 200

    skip = await api.post(f"{sheet}/status", json={"status": "signed"}, headers=artist.headers)
    assert error_code(skip, 409) == "CONFLICT"
    for status in ("sent", "signed"):
        moved = await api.post(f"{sheet}/status", json={"status": status}, headers=artist.headers)
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status
    back = await api.post(f"{sheet}/status", json={"status": "draft"}, headers=artist.headers)
    assert error_code(back, 409) == "CONFLICT"
    rewrite = await api.put(sheet, json=body, headers=artist.headers)
    assert error_code(rewrite, 409) == "CONFLICT"

    statuses = [
        e["payload"]["split_sheet"]["status"]
        for e in await outbox_events(outbox, "split_sheet.changed")
        if e["payload"]["split_sheet"]["track_id"] == track
    ]
    assert statuses == ["draft", "sent", "signed"]


# --- tracks ------------------------------------------------------------------------------


async def test_a_track_is_private_to_its_organization_and_its_snapshot_is_internal(
    api: httpx.AsyncClient,
    artist: Artist,
    acting_as: Headers,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    track = await seed_track(sessions, artist, visibility="private")
    own = await api.get(f"/internal/orgs/{artist.org}/tracks/{track}", headers=artist.headers)
    assert own.status_code == 200, own.text
    assert (own.json()["visibility"], own.json()["processing_state"]) == ("private", "ready")
    elsewhere = await api.get(f"/internal/orgs/org_other/tracks/{track}", headers=artist.headers)
    assert error_code(elsewhere, 404) == "RESOURCE_NOT_FOUND"

    snapshot = await api.get(f"/internal/tracks/{track}/snapshot", headers=acting_as())
    assert snapshot.status_code == 200
    assert snapshot.json()["track_id"] == track and snapshot.json()["visibility"] == "private"
    public = await api.get(f"/internal/tracks/{track}/public", headers=acting_as())
    assert error_code(public, 404) == "RESOURCE_NOT_FOUND"


async def test_playback_signs_the_renditions_and_answers_409_until_they_exist(
    api: httpx.AsyncClient, artist: Artist, sessions: async_sessionmaker[AsyncSession]
) -> None:
    aac = {
        "name": "aac",
        "key": "tracks/x/aac.m4a",
        "content_type": "audio/mp4",
        "codecs": "mp4a.40.2",
        "bitrate": 128_000,
    }
    ready = await seed_track(sessions, artist, media={"renditions": [aac]})
    signed = await api.get(
        f"/internal/orgs/{artist.org}/tracks/{ready}/playback-url", headers=artist.headers
    )
    assert signed.status_code == 200, signed.text
    assert "/v1/media/" in signed.json()["url"]
    assert [s["content_type"] for s in signed.json()["sources"]] == [
        'audio/mp4; codecs="mp4a.40.2"'
    ]

    processing = await seed_track(sessions, artist, processing_state="processing")
    failed = await seed_track(
        sessions, artist, processing_state="failed", processing_reason="not audio"
    )
    for track, code in ((processing, "MEDIA_PROCESSING"), (failed, "MEDIA_FAILED")):
        waiting = await api.get(
            f"/internal/orgs/{artist.org}/tracks/{track}/playback-url", headers=artist.headers
        )
        assert error_code(waiting, 409) == code
