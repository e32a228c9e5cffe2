"""Signed media URLs for a track opened through a link, asked of catalog: the URL names the
link, so the gateway serves its bytes only while the link still holds the track
(service/media_access.py)."""

from __future__ import annotations

from typing import Literal

from contracts.dto import SignedUrl
from servicekit.upstream import segment
from sharing.context import SharingContext

Asset = Literal["playback", "peaks", "download", "artwork"]


async def signed_url(
    ctx: SharingContext, track_id: str, asset: Asset, link_id: str, size: int | None = None
) -> SignedUrl:
    """Catalog's signed URL of one asset (artwork: one `size`, 404 when the track has none)."""
    params = {"linkId": link_id}
    if size is not None:
        params["size"] = str(size)
    return SignedUrl.model_validate(
        await ctx.catalog.json(
            "GET", f"/internal/tracks/{segment(track_id)}/{asset}-url", params=params
        )
    )
