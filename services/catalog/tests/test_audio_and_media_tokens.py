import base64
import hashlib
import hmac
import io
import json
from pathlib import Path

import pytest

from catalog.domain import media_tokens
from catalog.domain.audio import NotAudio, UnreadableAudio, inspect_audio
from catalog.domain.byte_ranges import parse_range
from servicekit.errors import ApiError

MEDIA = Path(__file__).parents[3] / "tests" / "fixtures" / "media"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("tone-3s.wav", "audio/wav"),
        ("tone-3s.mp3", "audio/mpeg"),
        ("tone-3s.flac", "audio/flac"),
        ("tone-3s.ogg", "audio/ogg"),
        ("tone-3s.opus", "audio/ogg"),
        ("tone-3s.m4a", "audio/mp4"),
    ],
)
def test_audio_is_recognised_by_content_with_its_duration(name: str, content_type: str) -> None:
    info = inspect_audio(io.BytesIO((MEDIA / name).read_bytes()))
    assert info.content_type == content_type
    assert info.duration_seconds is not None and 2.9 <= info.duration_seconds <= 3.1
    assert len(info.checksum_sha256) == 64


def test_opus_keeps_its_extension() -> None:
    assert inspect_audio(io.BytesIO((MEDIA / "tone-3s.opus").read_bytes())).extension == "opus"


@pytest.mark.parametrize(
    "name", ["not-audio.bin", "cover-600.png", "cover-1200.jpg", "truncated.png"]
)
def test_non_audio_is_refused(name: str) -> None:
    with pytest.raises(NotAudio):
        inspect_audio(io.BytesIO((MEDIA / name).read_bytes()))


def test_audio_header_without_audio_is_unreadable() -> None:
    with pytest.raises(UnreadableAudio):
        inspect_audio(io.BytesIO((MEDIA / "truncated.wav").read_bytes()))


KEY = b"k" * 32


def test_media_token_round_trip_and_tamper() -> None:
    grant = media_tokens.MediaGrant("mtrack_1", "audio", "inline", 2_000_000_000)
    token = media_tokens.sign(grant, KEY)
    assert "mtrack_1" not in token  # opaque enough, and never a bucket or key
    assert media_tokens.verify(token, KEY, now=1_000) == grant
    with pytest.raises(media_tokens.InvalidMediaToken):
        media_tokens.verify(token, b"other-key", now=1_000)
    mac = token.split(".")[1]
    forged = media_tokens.sign(
        media_tokens.MediaGrant("mtrack_2", "audio", "inline", 2_000_000_000), b"x"
    )
    with pytest.raises(media_tokens.InvalidMediaToken):
        media_tokens.verify(forged.split(".")[0] + "." + mac, KEY, now=1_000)
    with pytest.raises(media_tokens.InvalidMediaToken):
        media_tokens.verify("garbage", KEY)


def test_media_token_expires() -> None:
    token = media_tokens.sign(media_tokens.MediaGrant("t", "audio", "inline", 100), KEY)
    assert media_tokens.verify(token, KEY, now=99).subject_id == "t"
    with pytest.raises(media_tokens.InvalidMediaToken, match="expired"):
        media_tokens.verify(token, KEY, now=101)


def test_byte_ranges() -> None:
    assert parse_range(None, 100) is None
    assert parse_range("bytes=0-9", 100) == (0, 9)
    assert parse_range("bytes=90-", 100) == (90, 99)
    assert parse_range("bytes=-10", 100) == (90, 99)
    assert parse_range("bytes=50-500", 100) == (50, 99)
    with pytest.raises(ApiError):
        parse_range("bytes=100-", 100)


def test_byte_range_positions_of_any_length() -> None:
    """Found by fuzzing: a 5,000-digit position passed int()'s digit limit (a 500)."""
    huge = "9" * 5000
    assert parse_range(f"bytes=0-{huge}", 100) == (0, 99)
    assert parse_range(f"bytes=-{huge}", 100) == (0, 99)
    assert parse_range(f"bytes={'0' * 5000}7-8", 100) == (7, 8)
    with pytest.raises(ApiError) as refused:
        parse_range(f"bytes={huge}-", 100)
    assert refused.value.details["fields"].keys() == {"Range"}


@pytest.mark.parametrize(
    "header",
    ["bytes=abc", "bytes=-", "bytes=0-1,5-9", "items=0-5", "bytes=5-1", "bytes=1-2-3", "0-9", ""],
)
def test_a_range_header_that_is_not_one_byte_range_is_refused(header: str) -> None:
    for size in (100, None, 0):
        with pytest.raises(ApiError) as refused:
            parse_range(header, size)
        assert refused.value.code == "VALIDATION_ERROR"
        assert refused.value.details["fields"].keys() == {"Range"}


def test_a_range_is_read_as_written() -> None:
    assert parse_range(" bytes=0-9 ", 100) == (0, 9)
    assert parse_range("Bytes=0-9", 100) == (0, 9)
    assert parse_range("bytes=0-9", None) is None, "an object of unknown size is sent whole"


def test_a_link_bound_token_carries_its_link() -> None:
    grant = media_tokens.MediaGrant("mtrack_1", "audio", "inline", 2_000_000_000, "mslink_1")
    assert media_tokens.verify(media_tokens.sign(grant, KEY), KEY, now=1_000) == grant
    owner = media_tokens.MediaGrant("mtrack_1", "audio", "inline", 2_000_000_000)
    assert media_tokens.verify(media_tokens.sign(owner, KEY), KEY, now=1_000).link_id is None


def test_a_token_of_the_format_before_link_binding_is_refused() -> None:
    """Version 1 tokens (no `v`) may have come through a link now revoked: they fail closed."""
    body = json.dumps({"t": "mtrack_1", "a": "audio", "d": "inline", "e": 2_000_000_000})
    raw = body.encode()
    mac = hmac.new(KEY, raw, hashlib.sha256).digest()
    old = ".".join(base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in (raw, mac))
    with pytest.raises(media_tokens.InvalidMediaToken, match="version"):
        media_tokens.verify(old, KEY, now=1_000)


def test_an_artwork_size_token_names_its_size_and_the_original_none() -> None:
    sized = media_tokens.MediaGrant("t", "artwork", "inline", 5_000, size=300)
    assert media_tokens.verify(media_tokens.sign(sized, KEY), KEY, now=1_000).size == 300
    plain = media_tokens.MediaGrant("t", "artwork", "inline", 5_000)
    token = media_tokens.sign(plain, KEY)
    assert "s" not in json.loads(base64_body(token))
    assert media_tokens.verify(token, KEY, now=1_000).size is None


def base64_body(token: str) -> bytes:
    body = token.split(".", 1)[0]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
