"""Serves the bytes behind a signed media URL, with HTTP range support for seeking."""

from __future__ import annotations

import re
from typing import Any

from contracts.errors import ErrorCode
from litestar import Controller, Request, get
from litestar.response import Stream
from servicekit.errors import ApiError

from catalog.context import CatalogContext
from catalog.db import tracks as repo
from catalog.domain import media_tokens
from catalog.storage import iter_body

_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive, or None for the whole object."""
    match = _RANGE.match(header or "")
    if not match or size == 0:
        return None
    first_s, last_s = match.groups()
    if not first_s and not last_s:
        return None
    if not first_s:
        length = min(int(last_s), size)
        return size - length, size - 1
    first = int(first_s)
    last = min(int(last_s), size - 1) if last_s else size - 1
    if first >= size or first > last:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "range not satisfiable", details={"size": size})
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
            raise ApiError(ErrorCode.RESOURCE_NOT_FOUND, f"media link invalid: {exc}") from exc
        async with ctx.sessions() as session:
            row = await repo.get_track(session, grant.track_id)
        key = (
            None if row is None else (row.audio_key if grant.asset == "audio" else row.artwork_key)
        )
        if row is None or key is None:
            raise ApiError(ErrorCode.RESOURCE_NOT_FOUND, "media not found")
        size = int(row.size_bytes) if grant.asset == "audio" else None
        byte_range = _parse_range(request.headers.get("range"), size) if size is not None else None
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=300"}
        filename = re.sub(r"[^A-Za-z0-9._ -]", "_", row.title)[:80] or row.id
        extension = key.rsplit(".", 1)[-1]
        headers["Content-Disposition"] = f'{grant.disposition}; filename="{filename}.{extension}"'
        if byte_range is None:
            body = await ctx.storage.open(key)
            if size is not None:
                headers["Content-Length"] = str(size)
            return Stream(iter_body(body), media_type=row.content_type, headers=headers)
        first, last = byte_range
        body = await ctx.storage.open(key, offset=first, length=last - first + 1)
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        headers["Content-Length"] = str(last - first + 1)
        return Stream(
            iter_body(body), media_type=row.content_type, headers=headers, status_code=206
        )
