"""Serves the bytes behind a signed media URL, with HTTP range support for seeking."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Stream

from catalog import artwork
from catalog.context import CatalogContext
from catalog.db import albums as albums_repo
from catalog.db import tracks as repo
from catalog.domain import media_tokens
from catalog.storage import iter_body
from contracts.errors import ErrorCode
from servicekit.errors import ApiError
from servicekit.internal import MEDIA_LINK_HEADER, MEDIA_SUBJECT_HEADER

log = logging.getLogger(__name__)

# one range of bytes (RFC 9110 §14.1.2); several ranges would need a multipart answer
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.IGNORECASE)
# a position of more digits is past any object's end (and int() refuses over 4,300 digits)
_POSITION_DIGITS = 18
_PAST_ANY_END = 10**_POSITION_DIGITS
RANGE_FORMAT = "one range: bytes=first-last, bytes=first- or bytes=-suffix"


def _gone() -> ApiError:
    """One answer for every media URL that serves nothing (tampered, expired, malformed, or
    naming what is gone): which it was is for the log, not for whoever holds the URL."""
    return ApiError(ErrorCode.RESOURCE_NOT_FOUND, "media link invalid or expired")


def _unsatisfiable(size: int) -> ApiError:
    """A 422 names the field it refuses, like every validation error."""
    return ApiError(
        ErrorCode.VALIDATION_ERROR,
        "range not satisfiable",
        details={"fields": {"Range": f"no bytes of 0-{size - 1} in it"}, "size": size},
    )


def _malformed() -> ApiError:
    return ApiError(
        ErrorCode.VALIDATION_ERROR,
        "malformed Range header",
        details={"fields": {"Range": RANGE_FORMAT}},
    )


def _position(digits: str) -> int:
    significant = digits.lstrip("0")
    return int(significant or "0") if len(significant) <= _POSITION_DIGITS else _PAST_ANY_END


def _parse_range(header: str | None, size: int | None) -> tuple[int, int] | None:
    """(first, last) inclusive, or None for the whole object (no header, or an object of
    unknown or no size). A header that is not one byte range is refused whatever the size."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if not match or match.groups() == ("", ""):
        raise _malformed()
    first_s, last_s = match.groups()
    if first_s and last_s and _position(last_s) < _position(first_s):
        raise _malformed()  # RFC 9110: a range whose last is before its first is invalid
    if not size:
        return None
    if not first_s:
        length = min(_position(last_s), size)
        if length == 0:
            raise _unsatisfiable(size)
        return size - length, size - 1
    first = _position(first_s)
    last = min(_position(last_s), size - 1) if last_s else size - 1
    if first >= size:
        raise _unsatisfiable(size)
    return first, last


class MediaController(Controller):
    path = "/internal/media"

    @get("/{token:str}")
    async def fetch(
        self, request: Request[Any, Any, Any], token: str, ctx: CatalogContext
    ) -> Stream:
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
        byte_range = _parse_range(request.headers.get("range"), size)
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
            return Stream(iter_body(body), media_type=content_type, headers=headers)
        first, last = byte_range
        body = await ctx.storage.open(key, offset=first, length=last - first + 1)
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        headers["Content-Length"] = str(last - first + 1)
        return Stream(iter_body(body), media_type=content_type, headers=headers, status_code=206)


async def _locate(
    session: Any, grant: media_tokens.MediaGrant
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
        item = repo.rendition(row, grant.asset)
        if item is None:
            return None
        return item["key"], item["content_type"], row.title, item.get("size_bytes")
    if grant.asset == "peaks":
        if row.processing_state != "ready" or not row.media or not row.media.get("peaks_key"):
            return None
        return row.media["peaks_key"], "application/json", row.title, None
    if grant.asset != "artwork" or row.artwork_key is None:
        return None
    if grant.size is not None:
        item = artwork.find(row.artwork_sizes, grant.size)
        return None if item is None else (item["key"], item["content_type"], row.title, None)
    return row.artwork_key, row.artwork_content_type, row.title, None
