"""Whether a media URL issued through a link may still be served (service/media_access.py)."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import Parameter

from contracts.dto import MediaAccess
from sharing.context import SharingContext
from sharing.service.media_access import media_access


class MediaAccessController(Controller):
    path = "/internal/links/{link_id:str}/media-access"

    @get("/")
    async def check(
        self,
        link_id: str,
        ctx: SharingContext,
        track_id: str = Parameter(query="trackId", max_length=200),
    ) -> MediaAccess:
        return await media_access(ctx, link_id, track_id)
