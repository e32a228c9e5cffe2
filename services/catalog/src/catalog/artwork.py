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
from typing import Any, BinaryIO, Literal

from catalog.media import MediaRejected, artwork_sizes
from catalog.settings import CatalogSettings
from catalog.signing import sign_url
from catalog.storage import MediaStorage
from contracts.errors import ErrorCode
from contracts.media import ArtworkSize, ArtworkVariant
from servicekit.errors import ApiError

SIZES = (64, 300, 1200)


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


def keys(sizes: list[dict[str, Any]] | None) -> list[str]:
    return [item["key"] for item in sizes or []]


def find(sizes: list[dict[str, Any]] | None, size: int) -> dict[str, Any] | None:
    for item in sizes or []:
        if item["size"] == size:
            return item
    return None


def variants(sizes: list[dict[str, Any]] | None) -> list[ArtworkVariant]:
    """What a snapshot says of the sizes, smallest first: size and type, no key, no URL."""
    return [
        ArtworkVariant(size=int(item["size"]), content_type=item["content_type"])
        for item in sorted(sizes or [], key=lambda i: int(i["size"]))
    ]


def payload(
    settings: CatalogSettings,
    subject_id: str,
    asset: Literal["artwork", "cover"],
    sizes: list[dict[str, Any]] | None,
    link_id: str | None = None,
) -> list[ArtworkSize]:
    """Signed gateway URLs of the sizes, smallest first; never a storage key."""
    out = []
    for item in sorted(sizes or [], key=lambda i: int(i["size"])):
        signed = sign_url(
            settings,
            subject_id,
            asset,
            content_type=item["content_type"],
            link_id=link_id,
            size=int(item["size"]),
        )
        out.append(
            ArtworkSize(size=item["size"], url=signed.url, content_type=item["content_type"])
        )
    return out
