"""Whether a media URL issued through a link may still be served (asked by the gateway).

A signed media URL names the link it came through (catalog/domain/media_tokens.py); the
gateway serves its bytes only while this says yes, so a revoked link or a hidden track
stops playing at once instead of when the URL expires.
"""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.dto import MediaAccess
from sharing.context import SharingContext
from sharing.db import links as repo
from sharing.domain.links import MEDIA_KINDS, holds_track, is_live, track_is_shareable
from sharing.service.replicas import find_pack, find_track


async def media_access(ctx: SharingContext, link_id: str, track_id: str) -> MediaAccess:
    async with ctx.sessions() as session:
        link = await repo.by_id(session, link_id)
    if link is None or not is_live(link.revoked_at, link.expires_at, datetime.now(UTC)):
        return MediaAccess(live=False)
    pack = await find_pack(ctx, link.pack_id) if link.kind == "pack" else None
    in_link = link.kind in MEDIA_KINDS and holds_track(link, pack, track_id)
    if in_link:
        track, deleted = await find_track(ctx, track_id)
        in_link = track_is_shareable(track, deleted)
    return MediaAccess(
        live=in_link, link_kind=link.kind, pack_id=link.pack_id, expires_at=link.expires_at
    )
