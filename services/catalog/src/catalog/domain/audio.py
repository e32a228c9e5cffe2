"""Decide what an uploaded file is from its bytes, never from its name or declared type.

The file is read where it lies (a spooled temporary file for an upload) in bounded pieces:
the type from its first bytes, the duration by the readers' own seeking, the checksum in
chunks, so inspecting a 50 MB upload holds kilobytes, not the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO

import filetype
from mutagen import FileType, MutagenError
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE


class NotAudio(ValueError):
    """The bytes are not a supported audio format (answered with 415)."""


class UnreadableAudio(ValueError):
    """The bytes look like audio but cannot be read (answered with 422)."""


@dataclass(frozen=True, slots=True)
class AudioInfo:
    content_type: str
    extension: str
    size_bytes: int
    duration_seconds: float | None
    checksum_sha256: str


# sniffed MIME -> (canonical content type, extension, readers to try in order)
_FORMATS: dict[str, tuple[str, str, tuple[type[FileType], ...]]] = {
    "audio/x-wav": ("audio/wav", "wav", (WAVE,)),
    "audio/mpeg": ("audio/mpeg", "mp3", (MP3,)),
    "audio/x-flac": ("audio/flac", "flac", (FLAC,)),
    "audio/ogg": ("audio/ogg", "ogg", (OggVorbis, OggOpus)),
    "audio/mp4": ("audio/mp4", "m4a", (MP4,)),
    "audio/m4a": ("audio/mp4", "m4a", (MP4,)),
}


SNIFF_BYTES = 8192  # all that filetype looks at
CHUNK_BYTES = 1024 * 1024


def inspect_audio(file: BinaryIO) -> AudioInfo:
    """Blocking file reads: call it in a worker thread."""
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in _FORMATS:
        raise NotAudio(f"content is {kind.mime if kind else 'unknown'}, not supported audio")
    content_type, extension, readers = _FORMATS[kind.mime]
    duration = _duration(file, readers)
    if duration is None or duration <= 0:
        raise UnreadableAudio(f"{content_type} file has no readable audio stream")
    if kind.mime == "audio/ogg" and _is_opus(head):
        content_type, extension = "audio/ogg", "opus"
    checksum, size = _digest(file)
    return AudioInfo(
        content_type=content_type,
        extension=extension,
        size_bytes=size,
        duration_seconds=round(duration, 3),
        checksum_sha256=checksum,
    )


def _duration(file: BinaryIO, readers: tuple[type[FileType], ...]) -> float | None:
    for reader in readers:
        file.seek(0)
        try:
            parsed = reader(file)
        except (MutagenError, ValueError, EOFError, IndexError):
            continue
        length = getattr(parsed.info, "length", None)
        if length:
            return float(length)
    return None


def _digest(file: BinaryIO) -> tuple[str, int]:
    file.seek(0)
    sha = hashlib.sha256()
    size = 0
    while chunk := file.read(CHUNK_BYTES):
        sha.update(chunk)
        size += len(chunk)
    return sha.hexdigest(), size


def _is_opus(head: bytes) -> bool:
    return b"OpusHead" in head[:512]
