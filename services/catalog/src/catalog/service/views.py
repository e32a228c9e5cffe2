"""Payloads built from rows, the only place that decides what a caller or an event sees:
API views (with signed media URLs, never a storage key) and event snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from catalog.domain import artwork
from catalog.domain.media_assets import peaks_key
from catalog.settings import CatalogSettings
from catalog.signing import sign_url
from contracts.dto import (
    AlbumDetail,
    AlbumSummary,
    Artist,
    ContributorView,
    PackView,
    PublicTrack,
    SplitSheetView,
    TrackView,
)
from contracts.events import (
    AlbumChanged,
    Contributor,
    PackChanged,
    SplitSheetSnapshot,
    TrackDeleted,
    TrackSnapshot,
)
from contracts.media import ArtworkSize


def artwork_payload(
    settings: CatalogSettings,
    subject_id: str,
    asset: Literal["artwork", "cover"],
    sizes: list[dict[str, Any]] | None,
    link_id: str | None = None,
) -> list[ArtworkSize]:
    """Signed gateway URLs of the sizes, smallest first; never a storage key."""
    out = []
    for item in artwork.ordered(sizes):
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


def public_track(row: Any, settings: CatalogSettings) -> PublicTrack:
    """A track as anyone allowed to see it sees it (with `artwork_url`)."""
    artwork_url = (
        sign_url(settings, row.id, "artwork", content_type=row.artwork_content_type).url
        if row.artwork_key
        else None
    )
    peaks_url = (
        sign_url(settings, row.id, "peaks", content_type="application/json").url
        if peaks_key(row)
        else None
    )
    return PublicTrack(
        id=row.id,
        title=row.title,
        artist=Artist(handle=row.owner_handle, display_name=row.owner_display_name),
        album_id=row.album_id,
        features=list(row.features or []),
        tags=list(row.tags or []),
        description=row.description,
        duration_seconds=row.duration_seconds,
        content_type=row.content_type,
        has_artwork=row.artwork_key is not None,
        artwork_url=artwork_url,
        created_at=row.created_at,
        processing_state=row.processing_state,
        processing_reason=row.processing_reason if row.processing_state == "failed" else None,
        peaks_url=peaks_url,
        artwork_sizes=artwork_payload(settings, row.id, "artwork", row.artwork_sizes)
        if row.artwork_key
        else [],
        loudness_lufs=row.loudness_lufs,
        true_peak_dbtp=row.true_peak_dbtp,
    )


def track_view(row: Any, settings: CatalogSettings) -> TrackView:
    """A track as its organization sees it."""
    return TrackView(
        **public_track(row, settings).model_dump(),
        organization_id=row.organization_id,
        visibility=row.visibility,
        size_bytes=row.size_bytes,
        checksum_sha256=row.checksum_sha256,
        support_gate=row.support_gate,
        album_position=row.album_position,
        updated_at=row.updated_at,
    )


def track_snapshot(row: Any) -> TrackSnapshot:
    """A track as `catalog.lifecycle` carries it (and sharing's read-through asks for it)."""
    return TrackSnapshot(
        track_id=row.id,
        organization_id=row.organization_id,
        owner_id=row.owner_id,
        owner_handle=row.owner_handle,
        owner_display_name=row.owner_display_name,
        title=row.title,
        visibility=row.visibility,
        album_id=row.album_id,
        album_position=row.album_position,
        features=list(row.features or []),
        tags=list(row.tags or []),
        description=row.description,
        has_artwork=row.artwork_key is not None,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        duration_seconds=row.duration_seconds,
        created_at=row.created_at,
        updated_at=row.updated_at,
        processing_state=row.processing_state,
        has_peaks=peaks_key(row) is not None,
        loudness_lufs=row.loudness_lufs,
        true_peak_dbtp=row.true_peak_dbtp,
        artwork_sizes=artwork.variants(row.artwork_sizes) if row.artwork_key else [],
    )


def track_deleted(row: Any) -> TrackDeleted:
    return TrackDeleted(
        track_id=row.id,
        organization_id=row.organization_id,
        owner_id=row.owner_id,
        deleted_at=datetime.now(UTC),
    )


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
        cover_sizes=artwork_payload(settings, row.id, "cover", row.cover_sizes)
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


def album_changed(
    row: Any, action: str, track_ids: list[str] | None = None, previous: list[str] | None = None
) -> AlbumChanged:
    return AlbumChanged(
        action=action,
        album_id=row.id,
        organization_id=row.organization_id,
        owner_id=row.owner_id,
        owner_handle=row.owner_handle,
        slug=row.slug,
        previous_slugs=previous or [],
        track_ids=track_ids or [],
    )


def pack_view(row: Any, track_ids: list[str], tracks: list[PublicTrack] | None = None) -> PackView:
    """A pack with its ordered track ids, and the tracks themselves when given (a listing
    carries ids only)."""
    return PackView(
        id=row.id,
        organization_id=row.organization_id,
        title=row.title,
        description=row.description,
        track_ids=track_ids,
        tracks=tracks or [],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def pack_changed(row: Any, action: str, track_ids: list[str]) -> PackChanged:
    return PackChanged(
        action=action,
        pack_id=row.id,
        organization_id=row.organization_id,
        owner_id=row.owner_id,
        title=row.title,
        description=row.description,
        track_ids=track_ids,
        updated_at=row.updated_at,
    )


def split_sheet_view(row: Any) -> SplitSheetView:
    return SplitSheetView(
        id=row.id,
        track_id=row.track_id,
        status=row.status,
        contributors=[ContributorView(**c) for c in row.contributors],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def split_sheet_snapshot(row: Any) -> SplitSheetSnapshot:
    return SplitSheetSnapshot(
        split_sheet_id=row.id,
        track_id=row.track_id,
        organization_id=row.organization_id,
        owner_id=row.owner_id,
        status=row.status,
        contributors=[Contributor(**c) for c in row.contributors],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
