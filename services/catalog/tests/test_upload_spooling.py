"""Uploads are inspected where the form parser spooled them, in bounded memory."""

import hashlib
import json
import tracemalloc
import wave
from pathlib import Path
from tempfile import SpooledTemporaryFile

import pytest
from litestar.datastructures import UploadFile

from catalog.domain.metadata import (
    MAX_SUPPORT_GATE,
    MAX_SUPPORT_GATE_DEPTH,
    FieldError,
    parse_track_form,
)
from catalog.service.uploads import read_audio, spooled
from servicekit.errors import ApiError

SECONDS = 240  # 44.1 kHz 16-bit stereo: about 42 MB
FRAME_BYTES = 4


def write_wav(path: Path, seconds: int) -> None:
    silence = bytes(44_100 * FRAME_BYTES)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44_100)
        for _ in range(seconds):
            out.writeframes(silence)


def as_upload(path: Path) -> UploadFile:
    """What Litestar's form parser hands a handler: the file in a SpooledTemporaryFile
    (rolled to disk past 1 MiB)."""
    upload = UploadFile(content_type="application/octet-stream", filename=path.name)
    assert isinstance(upload.file, SpooledTemporaryFile)
    with path.open("rb") as source:
        while chunk := source.read(64 * 1024):
            upload.file.write(chunk)
    upload.file.seek(0)
    return upload


async def test_a_large_upload_is_inspected_without_holding_it(tmp_path: Path) -> None:
    source = tmp_path / "long.wav"
    write_wav(source, SECONDS)
    size = source.stat().st_size
    upload = as_upload(source)
    tracemalloc.start()
    try:
        spool, audio = await read_audio(upload, size, "file")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert audio.content_type == "audio/wav"
    assert audio.size_bytes == size == spool.size
    assert audio.duration_seconds == SECONDS
    assert audio.checksum_sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    # the file is about 42 MB; inspecting it holds a few chunks of 1 MiB at most
    assert size > 40_000_000
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes while inspecting a {size} byte upload"


def test_an_upload_over_the_limit_is_413_without_reading_it(tmp_path: Path) -> None:
    source = tmp_path / "long.wav"
    write_wav(source, 1)
    upload = as_upload(source)
    with pytest.raises(ApiError) as refused:
        spooled(upload, source.stat().st_size - 1, "file")
    assert refused.value.code.value == "PAYLOAD_TOO_LARGE"
    assert refused.value.details == {"field": "file", "max_bytes": source.stat().st_size - 1}


def test_support_gate_is_bounded_in_size_and_depth() -> None:
    fine = json.dumps({"type": "follow", "platform": "soundcloud", "url": "https://x.test"})
    assert parse_track_form({"support_gate": fine}).support_gate["type"] == "follow"
    huge = json.dumps({"note": "x" * (MAX_SUPPORT_GATE + 1)})
    deep = '{"a":' + "[" * MAX_SUPPORT_GATE_DEPTH + "]" * MAX_SUPPORT_GATE_DEPTH + "}"
    very_deep = '{"a":' + "[" * 2000 + "]" * 2000 + "}"  # past json's recursion limit
    for raw in (huge, deep, very_deep):
        with pytest.raises(FieldError) as refused:
            parse_track_form({"support_gate": raw})
        assert refused.value.field == "support_gate"
    edge = '{"a":' + "[" * (MAX_SUPPORT_GATE_DEPTH - 1) + "]" * (MAX_SUPPORT_GATE_DEPTH - 1) + "}"
    assert parse_track_form({"support_gate": edge}).support_gate is not None


def test_tag_lists_are_bounded_before_they_are_parsed() -> None:
    with pytest.raises(FieldError) as refused:
        parse_track_form({"tags": json.dumps(["drone"] * 100_000)})
    assert refused.value.field == "tags"
