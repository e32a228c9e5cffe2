"""The bytes behind a signed media URL: which object a grant names, and which of its bytes
a `Range` asks for (the handler streams them)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.context import CatalogContext
from catalog.db import albums as albums_repo
from catalog.db import tracks as repo
from catalog.domain import artwork, media_tokens
from catalog.domain.byte_ranges import parse_range
from catalog.domain.media_assets import peaks_key, rendition
from catalog.storage import iter_body
from contracts.errors import ErrorCode
from servicekit.errors import ApiError
from servicekit.internal import MEDIA_LINK_HEADER, MEDIA_SUBJECT_HEADER

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MediaBody:
    """What to stream: the bytes, their type, the response headers and status."""

    chunks: Iterator[bytes]
    content_type: str
    headers: dict[str, str]
    status_code: int


def _gone() -> ApiError:
    """One answer for every media URL that serves nothing (tampered, expired, malformed, or
    naming what is gone): which it was is for the log, not for whoever holds the URL."""
    return ApiError(ErrorCode.RESOURCE_NOT_FOUND, "media link invalid or expired")


async def open_media(ctx: CatalogContext, token: str, range_header: str | None) -> MediaBody:
    """The object a valid token names, whole (200) or the one range asked for (206)."""
    try:
        grant = media_tokens.verify(
            token, ctx.settings.media_signing_key.get_secret_value().encode()
        )
    except media_tokens.InvalidMediaToken as exc:
        log.info("media token refused: %s", exc)
        raise _gone() from exc
    async with ctx.sessions() as session:
        found = await _locate(session, grant)
    if found is None:
        log.info("media token for %s %s: nothing there", grant.asset, grant.subject_id)
        raise _gone()
    key, content_type, title, size = found
    byte_range = parse_range(range_header, size)
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=300"}
    filename = re.sub(r"[^A-Za-z0-9._ -]", "_", title)[:80] or grant.subject_id
    extension = key.rsplit(".", 1)[-1]
    headers["Content-Disposition"] = f'{grant.disposition}; filename="{filename}.{extension}"'
    if grant.link_id is not None:  # the gateway checks the link is still live
        headers[MEDIA_LINK_HEADER] = grant.link_id
        headers[MEDIA_SUBJECT_HEADER] = grant.subject_id
    if byte_range is None:
        body = await ctx.storage.open(key)
        if size is not None:
            headers["Content-Length"] = str(size)
        return MediaBody(iter_body(body), content_type, headers, 200)
    first, last = byte_range
    body = await ctx.storage.open(key, offset=first, length=last - first + 1)
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(last - first + 1)
    return MediaBody(iter_body(body), content_type, headers, 206)


async def _locate(
    session: AsyncSession, grant: media_tokens.MediaGrant
) -> tuple[str, str, str, int | None] | None:
    """(object key, content type, title for the filename, size if known) of a grant's object."""
    if grant.asset == "cover":
        album = await albums_repo.get_album(session, grant.subject_id)
        if album is None or album.cover_key is None:
            return None
        if grant.size is not None:
            item = artwork.find(album.cover_sizes, grant.size)
            return None if item is None else (item["key"], item["content_type"], album.title, None)
        return album.cover_key, album.cover_content_type, album.title, None
    row = await repo.get_track(session, grant.subject_id)
    if row is None:
        return None
    if grant.asset == "audio":
        return row.audio_key, row.content_type, row.title, int(row.size_bytes)
    if grant.asset in ("aac", "opus"):
        item = rendition(row, grant.asset)
        if item is None:
            return None
        return item["key"], item["content_type"], row.title, item.get("size_bytes")
    if grant.asset == "peaks":
        key = peaks_key(row)
        return None if key is None else (key, "application/json", row.title, None)
    if grant.asset != "artwork" or row.artwork_key is None:
        return None
    if grant.size is not None:
        item = artwork.find(row.artwork_sizes, grant.size)
        return None if item is None else (item["key"], item["content_type"], row.title, None)
    return row.artwork_key, row.artwork_content_type, row.title, None
