"""Serves the bytes behind a signed media URL, with HTTP range support for seeking."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Stream

from catalog.context import CatalogContext
from catalog.service.media import open_media


class MediaController(Controller):
    path = "/internal/media"

    @get("/{token:str}")
    async def fetch(
        self, request: Request[Any, Any, Any], token: str, ctx: CatalogContext
    ) -> Stream:
        body = await open_media(ctx, token, request.headers.get("range"))
        return Stream(
            body.chunks,
            media_type=body.content_type,
            headers=body.headers,
            status_code=body.status_code,
        )
