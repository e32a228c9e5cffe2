"""The media worker end to end (SPEC §7): real Postgres, Kafka, S3 and worker process."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from catalog.db.models import outbox as outbox_table
from catalog.db.models import storage_deletions
from catalog.domain.media_assets import media_keys
from catalog.infra_errors import is_infrastructure_error
from catalog.media import MediaRejected
from catalog.service.media_worker import MediaWorker
from catalog.settings import CatalogSettings
from catalog.storage import MediaStorage
from contracts.events import MediaJob
from devstack.processes import free_port
from devstack.suite import Suite
from servicekit.db import make_engine, make_sessionmaker
from servicekit.kafka import make_broker
from servicekit.outbox import Outbox
from tests.conftest import (
    MEDIA,
    Artist,
    assert_error,
    eventually,
    run_sql,
    upload,
    wait_processed,
)
from tests.test_catalog import objects_of
from tests.test_sharing import make_pack, share_pack

pytestmark = pytest.mark.e2e


def track_url(artist: Artist, track_id: str, tail: str = "") -> str:
    return f"/v1/music/{artist.organization_id}/tracks/{track_id}{tail}"


def media_objects(suite: Suite, track_id: str) -> list[str]:
    return sorted(objects_of(suite, f"tracks/{track_id}/media/"))


def settled(suite: Suite, track_id: str, referenced: set[str]) -> list[str] | None:
    """The media objects once the deletion sweeper removed every unreferenced one."""
    found = media_objects(suite, track_id)
    return found if set(found) == referenced else None


def test_upload_is_processing_then_ready_with_renditions(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    artist = new_artist()
    track = upload(api, artist, "tone-3s.wav", ready=False)
    assert track["processing_state"] in ("processing", "ready")
    if track["processing_state"] == "processing":
        # the worker may win the race, so only a 409 or a 200 are right answers here
        early = api.get(track_url(artist, track["id"], "/playback-url"), headers=artist.headers)
        if early.status_code != 200:
            assert_error(early, 409, "MEDIA_PROCESSING")
    ready = wait_processed(api, artist, track["id"])
    assert ready["processing_reason"] is None
    assert ready["duration_seconds"] == pytest.approx(3.0, abs=0.05)
    assert ready["loudness_lufs"] is not None and ready["true_peak_dbtp"] is not None
    assert "tracks/" not in json.dumps(ready)  # never a storage key
    peaks = httpx.get(ready["peaks_url"], timeout=10)
    assert peaks.status_code == 200 and len(peaks.json()["min"]) == peaks.json()["points"]

    play = api.get(track_url(artist, track["id"], "/playback-url"), headers=artist.headers)
    assert play.status_code == 200, play.text
    body = play.json()
    assert [s["content_type"].split(";")[0] for s in body["sources"]] == [
        "audio/webm",
        "audio/mp4",
    ]
    assert body["url"] == body["sources"][1]["url"]
    original = (MEDIA / "tone-3s.wav").read_bytes()
    for source in body["sources"]:
        got = httpx.get(source["url"], timeout=10)
        assert got.status_code == 200 and got.content != original
        ranged = httpx.get(source["url"], headers={"Range": "bytes=0-99"}, timeout=10)
        assert ranged.status_code == 206 and ranged.content == got.content[:100]
    download = api.get(track_url(artist, track["id"], "/download-url"), headers=artist.headers)
    assert httpx.get(download.json()["url"], timeout=10).content == original
    assert len(media_objects(suite, track["id"])) == 3  # opus, aac, peaks


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [("truncated.wav", 422, "VALIDATION_ERROR"), ("not-audio.bin", 415, "UNSUPPORTED_MEDIA_TYPE")],
)
def test_the_bad_fixtures_are_refused_at_upload(
    api: httpx.Client, new_artist: Callable[[], Artist], name: str, status: int, code: str
) -> None:
    artist = new_artist()
    response = api.post(
        f"/v1/music/{artist.organization_id}/tracks",
        headers=artist.headers,
        files={"file": (name, (MEDIA / name).read_bytes(), "application/octet-stream")},
        data={"title": "Bad"},
    )
    assert_error(response, status, code)


def flac_cut_in_half() -> bytes:
    data = (MEDIA / "tone-3s.flac").read_bytes()
    return data[: len(data) // 2]


def flac_with_garbage_frames() -> bytes:
    data = (MEDIA / "tone-3s.flac").read_bytes()
    return data[:4096] + bytes(len(data) - 4096)


@pytest.mark.parametrize(
    ("make", "says"),
    [(flac_cut_in_half, "cut off"), (flac_with_garbage_frames, "no decodable audio")],
)
def test_a_file_that_passes_the_upload_check_but_does_not_decode_fails_with_a_reason(
    api: httpx.Client, new_artist: Callable[[], Artist], make: Callable[[], bytes], says: str
) -> None:
    """Headers that lie get past the upload's quick look; the worker's full decode catches
    them, marks the track failed with a sentence, and goes on with the next job."""
    artist = new_artist()
    response = api.post(
        f"/v1/music/{artist.organization_id}/tracks",
        headers=artist.headers,
        files={"file": ("bad.flac", make(), "application/octet-stream")},
        data={"title": "Bad"},
    )
    assert response.status_code == 201, response.text
    failed = wait_processed(api, artist, response.json()["id"], state="failed")
    assert says in failed["processing_reason"]
    play = api.get(track_url(artist, failed["id"], "/playback-url"), headers=artist.headers)
    body = assert_error(play, 409, "MEDIA_FAILED")
    assert says in json.dumps(body)
    good = upload(api, artist, "tone-3s.flac")  # the worker still processes the next one
    assert good["processing_state"] == "ready"


def test_pack_link_without_downloads_never_hands_out_the_original(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    pack, tracks = make_pack(api, artist)
    link = share_pack(api, artist, pack["id"], disable_downloads=True)
    base = f"/v1/public/pack-links/{link['slug']}"
    original = (MEDIA / "tone-3s.mp3").read_bytes()
    page = api.get(base)
    assert page.status_code == 200
    urls: list[str] = []
    for track in page.json()["pack"]["tracks"]:
        urls += [u for u in (track["peaks_url"], track["artwork_url"]) if u]
        play = api.get(f"{base}/tracks/{track['id']}/playback-url")
        assert play.status_code == 200, play.text
        urls += [play.json()["url"], *(s["url"] for s in play.json()["sources"])]
        assert_error(
            api.get(f"{base}/tracks/{track['id']}/download-url"), 403, "DOWNLOADS_DISABLED"
        )
    assert len(urls) >= 3 * len(tracks)
    for url in urls:
        got = httpx.get(url, timeout=10, follow_redirects=True)  # a link's peaks route redirects
        assert got.status_code == 200 and got.content != original


def test_replacing_the_audio_makes_new_renditions_and_drops_the_old(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    artist = new_artist()
    track = upload(api, artist, "tone-3s.mp3")
    before = set(media_objects(suite, track["id"]))
    assert len(before) == 3
    with (MEDIA / "tone-3s.flac").open("rb") as audio:
        replaced = api.patch(
            track_url(artist, track["id"]),
            headers=artist.headers,
            files={"file": ("tone-3s.flac", audio, "application/octet-stream")},
        )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["processing_state"] == "processing"
    wait_processed(api, artist, track["id"])
    after = eventually(lambda: settled_new(suite, track["id"], before), timeout=90)
    assert len(after) == 3 and not (set(after) & before)


def settled_new(suite: Suite, track_id: str, old: set[str]) -> list[str] | None:
    found = media_objects(suite, track_id)
    return found if len(found) == 3 and not (set(found) & old) else None


def test_sigkill_mid_job_still_ends_ready_with_one_set(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite, tmp_path: Path
) -> None:
    """Kill the worker while it holds a job; its restart (or the redelivery) finishes it,
    and the deletion sweeper removes whatever the killed attempt had written."""
    artist = new_artist()
    track = upload(api, artist, "tone-3s.wav", ready=False)
    # kill once the worker holds the job (it counts the attempt before it starts one); it
    # may finish first on a fast machine, and the outcome must hold either way
    eventually(lambda: attempts(suite, track["id"]) >= 1 or None, timeout=60)
    suite.kill("media-worker")
    suite.start("media-worker")
    suite.wait_ready(("media-worker",), timeout=60)
    ready = wait_processed(api, artist, track["id"], timeout=90)
    assert ready["processing_state"] == "ready"
    objects: Any = eventually(lambda: settled_one_set(suite, track["id"]), timeout=90)
    assert len(objects) == 3 and len({key.rsplit("/", 1)[0] for key in objects}) == 1


def attempts(suite: Suite, track_id: str) -> int:
    rows = run_sql(
        suite.database_url("catalog"),
        "SELECT processing_attempts FROM catalog.tracks WHERE id = $1",
        track_id,
    )
    return int(rows[0]["processing_attempts"])


def settled_one_set(suite: Suite, track_id: str) -> list[str] | None:
    found = media_objects(suite, track_id)
    return found if len(found) == 3 else None


def run_backfill(suite: Suite) -> dict[str, int]:
    result = subprocess.run(
        [sys.executable, "-m", "catalog.cli", "backfill-media", "--quiet"],
        env={**os.environ, **suite.env(), "ENCORE_DATABASE_URL": suite.database_url("catalog")},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_backfill_renditions_a_track_from_before_the_pipeline_once(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    artist = new_artist()
    track = upload(api, artist, "tone-3s.ogg")
    # as a row migrated from before the worker existed looks: processing, no job ever sent
    run_sql(
        suite.database_url("catalog"),
        "UPDATE catalog.tracks SET processing_state = 'processing', processed_audio_key = NULL,"
        " processing_enqueued_at = NULL WHERE id = $1",
        track["id"],
    )
    assert_error(
        api.get(track_url(artist, track["id"], "/playback-url"), headers=artist.headers),
        409,
        "MEDIA_PROCESSING",
    )
    summary = run_backfill(suite)
    assert summary["enqueued"] >= 1 and summary["tracks"] >= summary["enqueued"]
    enqueued_at = run_sql(
        suite.database_url("catalog"),
        "SELECT processing_enqueued_at FROM catalog.tracks WHERE id = $1",
        track["id"],
    )[0][0]
    assert enqueued_at is not None
    wait_processed(api, artist, track["id"])
    run_backfill(suite)  # again: nothing for this track, it is ready for its upload
    again = run_sql(
        suite.database_url("catalog"),
        "SELECT processing_enqueued_at FROM catalog.tracks WHERE id = $1",
        track["id"],
    )[0][0]
    assert again == enqueued_at
    assert (
        api.get(track_url(artist, track["id"], "/playback-url"), headers=artist.headers).status_code
        == 200
    )


@contextlib.asynccontextmanager
async def worker_in_process(
    suite: Suite, monkeypatch: pytest.MonkeyPatch, **overrides: Any
) -> AsyncIterator[MediaWorker]:
    """A MediaWorker on the suite's real Postgres and S3 (its broker is never started)."""
    for name, value in {
        **suite.env(),
        "ENCORE_DATABASE_URL": suite.database_url("catalog"),
    }.items():
        monkeypatch.setenv(name, value)
    settings = CatalogSettings().model_copy(update=overrides)
    engine = make_engine(settings.database_url, pool_size=2)
    broker = make_broker(settings, "test-media-worker")
    storage = MediaStorage(settings)
    try:
        yield MediaWorker(
            settings, make_sessionmaker(engine), storage, Outbox(outbox_table), broker
        )
    finally:
        await engine.dispose()


def a_run_of(media: dict[str, Any], track_id: str, run: str) -> dict[str, Any]:
    """The media column another run of the worker would write: same shape, its own keys."""
    prefix = f"tracks/{track_id}/media/{run}/"
    return {
        **media,
        "renditions": [
            {**r, "key": prefix + r["key"].rsplit("/", 1)[1]} for r in media["renditions"]
        ],
        "peaks_key": prefix + "peaks.json",
    }


async def put_objects(worker: MediaWorker, media: dict[str, Any]) -> None:
    for key in media_keys(media):
        await worker.storage.put(key, io.BytesIO(b"rendition"), 9, "application/octet-stream")


def scheduled(suite: Suite, keys: list[str]) -> set[str]:
    rows = run_sql(
        suite.database_url("catalog"),
        "SELECT key FROM catalog.storage_deletions WHERE key = ANY($1::text[])",
        keys,
    )
    return {row["key"] for row in rows}


def test_two_runs_of_one_job_leave_the_winners_renditions_in_place(
    api: httpx.Client,
    new_artist: Callable[[], Artist],
    suite: Suite,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kafka handed one job to two workers: run A finishes first and its listing sees run
    B's uploads; B then finishes too. The track must keep A's renditions, and B's go."""
    artist = new_artist()
    track = upload(api, artist, "tone-3s.wav")
    database = suite.database_url("catalog")
    row = run_sql(
        database, "SELECT audio_key, media FROM catalog.tracks WHERE id = $1", track["id"]
    )
    media = json.loads(row[0]["media"]) if isinstance(row[0]["media"], str) else row[0]["media"]
    job = MediaJob(track_id=track["id"], audio_key=row[0]["audio_key"])
    run_a, run_b = a_run_of(media, track["id"], "runa"), a_run_of(media, track["id"], "runb")

    async def race() -> None:
        async with worker_in_process(suite, monkeypatch) as worker:
            await put_objects(worker, run_a)
            await put_objects(worker, run_b)
            await worker.finish(job, media=run_a, values={})
            await worker.finish(job, media=run_b, values={})

    run_sql(
        database,
        "UPDATE catalog.tracks SET processing_state = 'processing' WHERE id = $1",
        track["id"],
    )
    asyncio.run(race())
    ready = wait_processed(api, artist, track["id"])
    assert ready["processing_state"] == "ready"
    stored = run_sql(database, "SELECT media FROM catalog.tracks WHERE id = $1", track["id"])[0]
    stored_media = (
        stored["media"] if isinstance(stored["media"], dict) else json.loads(stored["media"])
    )
    assert stored_media == run_a
    assert not scheduled(suite, media_keys(run_a))
    assert set(media_keys(run_a)) <= set(media_objects(suite, track["id"]))
    # the deletion sweeper removes the first upload's set and run B's, never A's
    objects = eventually(lambda: settled(suite, track["id"], set(media_keys(run_a))), timeout=90)
    assert len(objects) == 3


def test_a_run_that_commits_takes_its_keys_off_the_removal_schedule(
    api: httpx.Client,
    new_artist: Callable[[], Artist],
    suite: Suite,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Run A failed the track and its listing scheduled run B's uploads; B then succeeds."""
    artist = new_artist()
    track = upload(api, artist, "tone-3s.wav")
    database = suite.database_url("catalog")
    row = run_sql(
        database, "SELECT audio_key, media FROM catalog.tracks WHERE id = $1", track["id"]
    )
    media = json.loads(row[0]["media"]) if isinstance(row[0]["media"], str) else row[0]["media"]
    job = MediaJob(track_id=track["id"], audio_key=row[0]["audio_key"])
    run_b = a_run_of(media, track["id"], "runb")
    scheduled_after_failure: set[str] = set()

    async def race() -> None:
        async with worker_in_process(suite, monkeypatch) as worker:
            await put_objects(worker, run_b)
            await worker.finish(job, failed="run A gave up")
            async with worker.sessions() as session:
                found = await session.scalars(
                    select(storage_deletions.c.key).where(
                        storage_deletions.c.key.in_(media_keys(run_b))
                    )
                )
                scheduled_after_failure.update(found)
            await worker.finish(job, media=run_b, values={})

    run_sql(
        database,
        "UPDATE catalog.tracks SET processing_state = 'processing' WHERE id = $1",
        track["id"],
    )
    asyncio.run(race())
    assert scheduled_after_failure  # the failure's listing did schedule B's uploads ...
    assert wait_processed(api, artist, track["id"])["processing_state"] == "ready"
    assert not scheduled(suite, media_keys(run_b))  # ... and B's commit took them back


def test_a_storage_outage_leaves_the_track_processing_for_redelivery(
    api: httpx.Client,
    new_artist: Callable[[], Artist],
    suite: Suite,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """S3 unreachable (a port nobody listens on): the job raises for redelivery; the track
    is neither failed nor charged an attempt."""
    artist = new_artist()
    track = upload(api, artist, "tone-3s.wav")
    database = suite.database_url("catalog")
    audio_key = run_sql(
        database, "SELECT audio_key FROM catalog.tracks WHERE id = $1", track["id"]
    )[0][0]
    run_sql(
        database,
        "UPDATE catalog.tracks SET processing_state = 'processing', processing_attempts = 0"
        " WHERE id = $1",
        track["id"],
    )
    job = MediaJob(track_id=track["id"], audio_key=audio_key)

    async def handle() -> BaseException | None:
        async with worker_in_process(
            suite,
            monkeypatch,
            s3_endpoint=f"http://127.0.0.1:{free_port()}",
            media_max_attempts=2,
            media_retry_wait_seconds=0.01,
        ) as worker:
            try:
                await worker.handle(job)
            except Exception as exc:
                return exc
        return None

    raised = asyncio.run(handle())
    assert raised is not None and is_infrastructure_error(raised), raised
    state, attempts = run_sql(
        database,
        "SELECT processing_state, processing_attempts FROM catalog.tracks WHERE id = $1",
        track["id"],
    )[0]
    assert (state, attempts) == ("processing", 0)
    assert not is_infrastructure_error(MediaRejected("not audio"))
