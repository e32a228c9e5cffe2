"""Catalog in process: its own app (`create_app`) on a real Postgres through an ASGI test
client, without S3, Kafka or any other service. Tracks are written to the table as an
upload leaves them (an upload itself needs storage: the end-to-end tests cover it), then
albums, packs, split sheets and tracks go through the API, and the events each change
would publish are read from the outbox they were written to, in the same transaction. The
last section calls the service layer (`catalog.service`) directly, for the rules no HTTP test
here reached."""

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
from catalog.context import CatalogContext
from catalog.db.models import outbox
from catalog.db.tracks import get_track, insert_track
from catalog.domain.track_lists import appended, new_positions
from catalog.service import albums, packs, split_sheets, tracks
from catalog.service.storage_sweeper import StorageSweeper
from catalog.settings import CatalogSettings
from catalog.storage import MediaStorage
from contracts.api.catalog import CreateAlbum, CreatePack, SplitSheetInput, UpdateAlbum
from contracts.errors import ErrorCode
from devstack.processes import free_port
from servicekit.errors import ApiError
from servicekit.internal import Actor
from servicekit.outbox import Outbox

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> CatalogSettings:
    return CatalogSettings(
        **service_settings,
        s3_endpoint=f"http://127.0.0.1:{free_port()}",  # no storage: nothing here may need it
    )


@pytest.fixture
async def api(settings: CatalogSettings, in_process: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(create_app(settings)) as client:
        yield client


@pytest.fixture
def ctx(settings: CatalogSettings, sessions: async_sessionmaker[AsyncSession]) -> CatalogContext:
    """What `create_app` gives the handlers, for calling the service layer directly."""
    storage = MediaStorage(settings)
    return CatalogContext(
        settings=settings,
        sessions=sessions,
        outbox=Outbox(outbox),
        storage=storage,
        sweeper=StorageSweeper(sessions, storage, settings.storage_sweep_interval_seconds),
    )


class Artist:
    def __init__(self, acting_as: Headers) -> None:
        self.user_id = f"usr_{uuid.uuid4().hex[:12]}"
        self.org = f"org_{uuid.uuid4().hex[:12]}"
        self.handle = "a" + secrets.token_hex(4)
        self.headers = acting_as(self.user_id, self.handle)
        self.actor = Actor(user_id=self.user_id, handle=self.handle)


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


# --- the service layer, called directly ----------------------------------------------------


async def refused(call: Any, code: ErrorCode) -> dict[str, Any]:
    """The details of the ApiError `call` raises, which must have `code`."""
    with pytest.raises(ApiError) as caught:
        await call
    assert caught.value.code == code, caught.value.system_message
    return caught.value.details


def test_track_list_rules_append_and_position() -> None:
    assert appended(["a", "b"], ["c", "a", "d"]) == ["a", "b", "c", "d"]

    class Row:
        def __init__(self, position: int | None) -> None:
            self.album_position = position

    found = {"a": Row(1), "b": Row(None), "c": Row(None)}
    assert new_positions(["c", "a", "b"], found, 1) == [("c", 2), ("b", 3)]


async def test_pack_tracks_append_reorder_as_a_permutation_and_remove(
    ctx: CatalogContext, artist: Artist, sessions: async_sessionmaker[AsyncSession]
) -> None:
    a, b, c = [await seed_track(sessions, artist) for _ in range(3)]
    pack = await packs.create(
        ctx, artist.org, artist.actor, CreatePack(title="P", track_ids=[b, a])
    )
    grown = await packs.add_tracks(ctx, artist.org, pack.id, artist.actor, [c, b])
    assert grown.track_ids == [b, a, c], "appended in order; a track already there stays"
    assert [t.id for t in grown.tracks] == grown.track_ids

    details = await refused(
        packs.reorder(ctx, artist.org, pack.id, artist.actor, [a, b]), ErrorCode.VALIDATION_ERROR
    )
    assert (details["missing"], details["unexpected"]) == ([c], [])
    await refused(
        packs.reorder(ctx, artist.org, pack.id, artist.actor, [a, b, c, c]),
        ErrorCode.VALIDATION_ERROR,
    )
    assert (await packs.reorder(ctx, artist.org, pack.id, artist.actor, [c, a, b])).track_ids == [
        c,
        a,
        b,
    ]

    shrunk = await packs.remove_track(ctx, artist.org, pack.id, a, artist.actor)
    assert shrunk.track_ids == [c, b]
    await refused(
        packs.remove_track(ctx, artist.org, pack.id, a, artist.actor),
        ErrorCode.RESOURCE_NOT_FOUND,
    )
    snapshot = await packs.snapshot(ctx, pack.id)
    assert snapshot.track_ids == [c, b]


async def test_finalize_appends_new_tracks_and_releases_only_the_first_time(
    ctx: CatalogContext,
    artist: Artist,
    sessions: async_sessionmaker[AsyncSession],
    outbox_events: Any,
) -> None:
    album, _ = await albums.create(ctx, artist.org, artist.actor, CreateAlbum(title="Growing"))
    first, second, late = [await seed_track(sessions, artist, album_id=album.id) for _ in range(3)]
    done = await albums.finalize(ctx, artist.org, album.id, artist.actor, [second, first])
    assert done.released_at is not None
    assert [t.id for t in done.tracks] == [second, first, late], "unpositioned ones last"
    again = await albums.finalize(ctx, artist.org, album.id, artist.actor, [late, first])
    assert [t.id for t in again.tracks] == [second, first, late], "positions never move"
    assert again.released_at == done.released_at
    assert len(await outbox_events(outbox, "album.released", album_id=album.id)) == 1
    async with sessions() as session:
        assert (await get_track(session, late)).album_position == 3


async def test_a_renamed_album_keeps_its_old_slug_and_refuses_a_taken_one(
    ctx: CatalogContext, artist: Artist, sessions: async_sessionmaker[AsyncSession]
) -> None:
    album, _ = await albums.create(ctx, artist.org, artist.actor, CreateAlbum(title="Old Name"))
    await albums.create(ctx, artist.org, artist.actor, CreateAlbum(title="Taken"))
    await seed_track(sessions, artist, album_id=album.id)
    renamed = await albums.update(
        ctx, artist.org, album.id, artist.actor, UpdateAlbum(title="New Name")
    )
    assert renamed.slug == "new-name"
    for slug in ("old-name", "new-name"):
        assert (await albums.public_album(ctx, artist.handle, slug)).id == album.id
    details = await refused(
        albums.update(ctx, artist.org, album.id, artist.actor, UpdateAlbum(title="Taken")),
        ErrorCode.CONFLICT,
    )
    assert details == {"slug": "taken"}


async def test_an_albums_slug_belongs_to_one_organization(
    ctx: CatalogContext, artist: Artist
) -> None:
    await albums.create(ctx, artist.org, artist.actor, CreateAlbum(title="Only Here"))
    details = await refused(
        albums.create(ctx, "org_elsewhere", artist.actor, CreateAlbum(title="Only Here")),
        ErrorCode.CONFLICT,
    )
    assert details == {"slug": "only-here"}


async def test_deleting_an_album_orphans_its_tracks_or_with_cascade_deletes_them(
    ctx: CatalogContext,
    artist: Artist,
    sessions: async_sessionmaker[AsyncSession],
    outbox_events: Any,
) -> None:
    kept_album, _ = await albums.create(ctx, artist.org, artist.actor, CreateAlbum(title="K"))
    gone_album, _ = await albums.create(ctx, artist.org, artist.actor, CreateAlbum(title="G"))
    kept = await seed_track(sessions, artist, album_id=kept_album.id)
    removed = await seed_track(sessions, artist, album_id=kept_album.id)
    gone = await seed_track(sessions, artist, album_id=gone_album.id)

    out = await albums.remove_track(ctx, artist.org, kept_album.id, removed, artist.actor)
    assert out.removed
    changed = await outbox_events(outbox, "album.changed", album_id=kept_album.id)
    assert changed[-1]["payload"]["track_ids"] == [kept]

    orphaned = await albums.delete(ctx, artist.org, kept_album.id, artist.actor, cascade=False)
    cascaded = await albums.delete(ctx, artist.org, gone_album.id, artist.actor, cascade=True)
    assert (orphaned.tracks, cascaded.tracks) == ([kept], [gone])
    async with sessions() as session:
        assert (await get_track(session, kept)).album_id is None
        assert (await get_track(session, removed)).album_id is None
        assert await get_track(session, gone) is None
    assert len(await outbox_events(outbox, "track.deleted", track_id=gone)) == 1


async def test_a_private_track_is_public_to_its_owner_only_and_never_through_a_link(
    ctx: CatalogContext, artist: Artist, sessions: async_sessionmaker[AsyncSession]
) -> None:
    aac = {"name": "aac", "key": "k.m4a", "content_type": "audio/mp4", "codecs": "mp4a.40.2"}
    track = await seed_track(sessions, artist, visibility="private", media={"renditions": [aac]})
    assert (await tracks.public(ctx, track, artist.actor)).id == track
    await refused(tracks.public(ctx, track, Actor(user_id=None)), ErrorCode.RESOURCE_NOT_FOUND)
    own = await tracks.media_url(ctx, track, "inline", org_id=artist.org)
    assert "/v1/media/" in own.url
    for purpose in ("inline", "attachment", "peaks"):
        await refused(
            tracks.media_url(ctx, track, purpose, link_id="lnk_1"), ErrorCode.RESOURCE_NOT_FOUND
        )
    await refused(tracks.artwork_url(ctx, track, "lnk_1", 300), ErrorCode.RESOURCE_NOT_FOUND)


async def test_rewriting_a_sent_split_sheet_sends_it_back_to_draft(
    ctx: CatalogContext, artist: Artist, sessions: async_sessionmaker[AsyncSession]
) -> None:
    track = await seed_track(sessions, artist)
    body = SplitSheetInput.model_validate(
        {"contributors": [{"name": " Ada ", "role": "writer", "percentage": "100"}]}
    )
    sheet = await split_sheets.put_sheet(ctx, artist.org, track, artist.actor, body)
    assert sheet.contributors[0].name == "Ada"
    sent = await split_sheets.change_status(ctx, artist.org, track, artist.actor, "sent")
    assert sent.status == "sent"
    again = await split_sheets.change_status(ctx, artist.org, track, artist.actor, "sent")
    assert again.updated_at == sent.updated_at, "the same status again changes nothing"
    rewritten = await split_sheets.put_sheet(ctx, artist.org, track, artist.actor, body)
    assert (rewritten.id, rewritten.status) == (sheet.id, "draft")
    assert (await split_sheets.snapshot(ctx, track)).status == "draft"
