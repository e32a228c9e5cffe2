"""Whether a media URL issued through a link may still be served (asked by the gateway).

A signed media URL names the link it came through (catalog/domain/media_tokens.py); the
gateway serves its bytes only while this says yes, so a revoked link or a hidden track
stops playing at once instead of when the URL expires.
"""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Controller, get
from litestar.params import Parameter

from contracts.dto import MediaAccess
from sharing.context import SharingContext
from sharing.db import links as repo
from sharing.domain.links import is_live, track_is_shareable
from sharing.tracks import find_pack, find_track


class MediaAccessController(Controller):
    path = "/internal/links/{link_id:str}/media-access"

    @get("/")
    async def check(
        self,
        link_id: str,
        ctx: SharingContext,
        track_id: str = Parameter(query="trackId", max_length=200),
    ) -> MediaAccess:
        async with ctx.sessions() as session:
            link = await repo.by_id(session, link_id)
        if link is None or not is_live(link.revoked_at, link.expires_at, datetime.now(UTC)):
            return MediaAccess(live=False)
        if link.kind == "track":
            in_link = link.track_id == track_id
        elif link.kind == "pack":
            pack = await find_pack(ctx, link.pack_id)
            in_link = pack is not None and track_id in pack.track_ids
        else:  # ref codes and split sheets hand out no media URLs
            in_link = False
        if in_link:
            track, deleted = await find_track(ctx, track_id)
            in_link = track_is_shareable(track, deleted)
        return MediaAccess(
            live=in_link, link_kind=link.kind, pack_id=link.pack_id, expires_at=link.expires_at
        )
