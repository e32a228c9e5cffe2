"""Uploaded files from a multipart form, bounded in size, with clear errors.

Litestar's form parser writes each file part to a temporary file (in memory up to 1 MiB,
on disk past it) as the body streams in. Files are checked and sent to storage from that
file, never read whole into memory, so an upload costs the process a few MiB however
large it is (storage.py bounds what the S3 client holds).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any, BinaryIO

from litestar import Request
from litestar.datastructures import UploadFile

from catalog.domain.audio import AudioInfo, NotAudio, UnreadableAudio, inspect_audio
from catalog.domain.images import ImageInfo, NotAnImage, inspect_image
from contracts.errors import ErrorCode
from servicekit.errors import ApiError, validation_error


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


async def form_of(request: Request[Any, Any, Any]) -> tuple[dict[str, str], dict[str, UploadFile]]:
    """Split a multipart/urlencoded form into text fields and files; 422 if it is not a form."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise validation_error("expected a form body", {"body": "multipart/form-data required"})
    try:
        form = await request.form()
    except UnicodeDecodeError as exc:
        raise validation_error("form fields must be UTF-8", {"body": "not UTF-8"}) from exc
    texts: dict[str, str] = {}
    files: dict[str, UploadFile] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files[key] = value
        else:
            texts[key] = str(value)
    return texts, files
