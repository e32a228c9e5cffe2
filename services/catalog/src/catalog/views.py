"""Response models built from rows; the only place that decides what a caller sees."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog import artwork
from catalog.db.tracks import public_track
from catalog.settings import CatalogSettings
from catalog.signing import sign_url
from contracts.dto import AlbumDetail, AlbumSummary, Artist


def album_summary(row: Any, settings: CatalogSettings, track_count: int) -> AlbumSummary:
    cover = (
        sign_url(settings, row.id, "cover", content_type=row.cover_content_type).url
        if row.cover_key
        else None
    )
    return AlbumSummary(
        id=row.id,
        slug=row.slug,
        title=row.title,
        description=row.description,
        artist=Artist(handle=row.owner_handle, display_name=row.owner_display_name),
        cover_url=cover,
        cover_sizes=artwork.payload(settings, row.id, "cover", row.cover_sizes)
        if row.cover_key
        else [],
        released_at=row.released_at,
        track_count=track_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def album_detail(row: Any, track_rows: Sequence[Any], settings: CatalogSettings) -> AlbumDetail:
    return AlbumDetail(
        **album_summary(row, settings, len(track_rows)).model_dump(),
        tracks=[public_track(t, settings) for t in track_rows],
    )
