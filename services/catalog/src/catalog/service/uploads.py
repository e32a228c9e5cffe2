"""Uploaded files from a multipart form (`api/forms.py` reads it), bounded in size, with
clear errors.

Litestar's form parser writes each file part to a temporary file (in memory up to 1 MiB,
on disk past it) as the body streams in. Files are checked and sent to storage from that
file, never read whole into memory, so an upload costs the process a few MiB however
large it is (storage.py bounds what the S3 client holds).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import BinaryIO

from litestar.datastructures import UploadFile

from catalog.domain.audio import AudioInfo, NotAudio, UnreadableAudio, inspect_audio
from catalog.domain.images import ImageInfo, NotAnImage, inspect_image
from contracts.errors import ErrorCode
from servicekit.errors import ApiError, validation_error

Form = tuple[dict[str, str], dict[str, UploadFile]]  # text fields, files
FormReader = Callable[[], Awaitable[Form]]  # reads the body when called


@dataclass(frozen=True, slots=True)
class SpooledFile:
    """An uploaded file where the form parser left it, and its size."""

    file: BinaryIO
    size: int


def spooled(upload: UploadFile, limit: int, field: str) -> SpooledFile:
    """Measured by seeking, not reading; 413 above `limit`."""
    file: BinaryIO = upload.file  # type: ignore[assignment]  # a SpooledTemporaryFile
    size = file.seek(0, os.SEEK_END)
    file.seek(0)
    if size > limit:
        raise ApiError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"{field} larger than {limit} bytes",
            details={"field": field, "max_bytes": limit},
        )
    return SpooledFile(file, size)


async def read_audio(upload: UploadFile, limit: int, field: str) -> tuple[SpooledFile, AudioInfo]:
    """415 for what is not supported audio, 422 for audio that cannot be read."""
    spool = spooled(upload, limit, field)
    try:
        return spool, await asyncio.to_thread(inspect_audio, spool.file)
    except NotAudio as exc:
        raise ApiError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE, str(exc), details={"field": field}
        ) from exc
    except UnreadableAudio as exc:
        raise validation_error(str(exc), {field: "audio could not be read"}) from exc


async def read_image(upload: UploadFile, limit: int, field: str) -> tuple[SpooledFile, ImageInfo]:
    spool = spooled(upload, limit, field)
    try:
        return spool, await asyncio.to_thread(inspect_image, spool.file)
    except NotAnImage as exc:
        raise ApiError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE, str(exc), details={"field": field}
        ) from exc
