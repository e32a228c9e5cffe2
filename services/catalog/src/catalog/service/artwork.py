"""Artwork sizes (SPEC §7) for track artwork and album covers, made in the upload request.

Synchronous on purpose: the upload path already decodes the whole image to check it
(`domain/images.inspect_image`, bounded by `ENCORE_MAX_IMAGE_BYTES` and 40 megapixels), so
three resizes cost about as much again and the response already carries the sizes; a job
would add a state, an event type and a consumer for a bounded sub-second task.

Objects live under a per-version prefix (`{subject}/artwork/{version}/{size}.webp`), outside
the audio worker's `media/` prefix, so neither pipeline removes the other's outputs.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any, BinaryIO

from catalog.domain.artwork import SIZES
from catalog.media import MediaRejected, artwork_sizes
from catalog.storage import MediaStorage
from contracts.errors import ErrorCode
from servicekit.errors import ApiError


def _read(file: BinaryIO) -> bytes:
    file.seek(0)
    return file.read()


async def store_sizes(
    storage: MediaStorage, file: BinaryIO, prefix: str, field: str
) -> list[dict[str, Any]]:
    """Render every size of the image in `file` and upload them under `prefix`; returns the
    descriptors to record (`size`, `key`, `content_type`). On any failure the objects
    already written are removed again; an unreadable image is a 415 for `field`."""
    data = await asyncio.to_thread(_read, file)
    try:
        return await render_and_store(storage, data, prefix)
    except MediaRejected as exc:
        raise ApiError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE, exc.reason, details={"field": field}
        ) from exc


async def render_and_store(storage: MediaStorage, data: bytes, prefix: str) -> list[dict[str, Any]]:
    """`store_sizes` for image bytes already in hand (the upload path and the operator
    backfill); raises MediaRejected for an image that cannot be sized."""
    images = await asyncio.to_thread(artwork_sizes, data, SIZES)
    stored: list[dict[str, Any]] = []
    try:
        for image in images:
            key = f"{prefix}{image.size}.webp"
            await storage.put(key, io.BytesIO(image.data), len(image.data), image.content_type)
            stored.append({"size": image.size, "key": key, "content_type": image.content_type})
    except BaseException:
        await remove_all(storage, stored)
        raise
    return stored


async def remove_all(storage: MediaStorage, sizes: list[dict[str, Any]] | None) -> None:
    """Undo `store_sizes` when the row that would reference them is never committed."""
    for item in sizes or []:
        await storage.remove(item["key"])
