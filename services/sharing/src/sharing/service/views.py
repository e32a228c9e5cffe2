"""Every payload sharing builds, once: link views and summaries, the public track as a link
shows it, and the fields its events carry about a link."""

from __future__ import annotations

from typing import Any, Literal

from contracts.api.sharing import (
    PackContents,
    PackLinkCreated,
    PackLinkSummary,
    PackPresentation,
    RefShareCreated,
    SharedContributor,
    SharedSplitSheet,
    SplitSheetLinkSummary,
    SplitSheetLinkView,
)
from contracts.dto import (
    Artist,
    ListenReport,
    PublicTrack,
    ShareLinkCreated,
    ShareLinkSummary,
    TrackLinkSummary,
    TrackLinkView,
)
from contracts.events import (
    ShareLinkLifecycle,
    SplitSheetSnapshot,
    TrackListened,
    TrackSnapshot,
    Visitor,
)
from contracts.media import ArtworkSize
from servicekit.upstream import segment
from sharing.settings import SharingSettings


def public_url(settings: SharingSettings, path: str) -> str:
    return settings.public_base_url.rstrip("/") + path


def public_track(track: TrackSnapshot, media_route: str | None = None) -> PublicTrack:
    """A track as a link shows it, from the replica's snapshot. `media_route`: the link's
    own media routes (the gateway's `/a/t/{token}` or `/a/p/{slug}/{track}`, absolute).
    The payload names the peaks and each artwork size under it only when the replica says
    they exist; no storage key, no catalog call, and so no `artwork_url` (a signed URL of
    the original, which only catalog's own payload carries: services/catalog/service/views.py)."""
    ready = track.processing_state == "ready"
    return PublicTrack(
        id=track.track_id,
        title=track.title,
        artist=Artist(handle=track.owner_handle, display_name=track.owner_display_name),
        album_id=track.album_id,
        features=track.features,
        tags=track.tags,
        description=track.description,
        duration_seconds=track.duration_seconds,
        content_type=track.content_type,
        has_artwork=track.has_artwork,
        created_at=track.created_at,
        processing_state=track.processing_state or "processing",
        peaks_url=f"{media_route}/peaks" if media_route and track.has_peaks and ready else None,
        artwork_sizes=[
            ArtworkSize(
                size=item.size,
                url=f"{media_route}/artwork/{item.size}",
                content_type=item.content_type,
            )
            for item in track.artwork_sizes
        ]
        if media_route and track.has_artwork
        else [],
        loudness_lufs=track.loudness_lufs,
        true_peak_dbtp=track.true_peak_dbtp,
    )


def track_media_route(token: str) -> str:
    return f"/a/t/{segment(token)}"


def pack_media_route(slug: str, track_id: str) -> str:
    return f"/a/p/{segment(slug)}/{segment(track_id)}"


def link_view(
    settings: SharingSettings, link: Any, track: TrackSnapshot, token: str
) -> TrackLinkView:
    """What anyone holding a track link's token sees."""
    return TrackLinkView(
        link=TrackLinkSummary(
            id=link.id,
            target_type="track",
            visibility=link.visibility,
            expires_at=link.expires_at,
            created_at=link.created_at,
        ),
        track=public_track(track, public_url(settings, track_media_route(token))),
    )


def pack_presentation(
    settings: SharingSettings, link: Any, pack: Any, tracks: list[TrackSnapshot]
) -> PackPresentation:
    """A pack link's page: `tracks` are the pack's shareable ones, in its order."""
    return PackPresentation(
        link=PackLinkSummary(
            slug=link.slug,
            name=link.name,
            disable_downloads=link.disable_downloads,
            expiresAt=link.expires_at,
            created_at=link.created_at,
        ),
        pack=PackContents(
            id=pack.pack_id,
            title=pack.title,
            description=pack.description,
            tracks=[
                public_track(t, public_url(settings, pack_media_route(link.slug, t.track_id)))
                for t in tracks
            ],
        ),
    )


def split_sheet_view(
    link: Any, sheet: SplitSheetSnapshot, track: TrackSnapshot | None
) -> SplitSheetLinkView:
    return SplitSheetLinkView(
        link=SplitSheetLinkSummary(
            name=link.name,
            status=sheet.status,
            tokenPreview=link.token_preview,
            trackId=link.track_id,
            created_at=link.created_at,
            updated_at=link.updated_at,
            expiresAt=link.expires_at,
        ),
        splitSheet=SharedSplitSheet(
            id=sheet.split_sheet_id,
            trackId=sheet.track_id,
            track_title=track.title if track else None,
            status=sheet.status,
            contributors=[
                SharedContributor(
                    name=c.name, user_handle=c.user_handle, role=c.role, percentage=c.percentage
                )
                for c in sheet.contributors
            ],
            updated_at=sheet.updated_at,
        ),
    )


def token_link_created(
    settings: SharingSettings, row: Any, token: str, path: str
) -> ShareLinkCreated:
    """A new capability link (track, split sheet); `path`: where its token opens."""
    return ShareLinkCreated(
        id=row.id,
        token=token,
        url=public_url(settings, path),
        target_type=row.kind,
        visibility=row.visibility,
        expires_at=row.expires_at,
        created_at=row.created_at,
    )


def pack_link_created(settings: SharingSettings, row: Any) -> PackLinkCreated:
    return PackLinkCreated(
        id=row.id,
        slug=row.slug,
        url=public_url(settings, f"/p/{row.slug}"),
        target_type="pack",
        pack_id=row.pack_id,
        name=row.name,
        visibility=row.visibility,
        disable_downloads=row.disable_downloads,
        has_access_code=row.access_code_hash is not None,
        grantees=list(row.grantees),
        expires_at=row.expires_at,
        created_at=row.created_at,
    )


def ref_share_created(settings: SharingSettings, row: Any, code: str) -> RefShareCreated:
    return RefShareCreated(
        id=row.id,
        code=code,
        track_id=row.track_id,
        url=public_url(settings, f"/v1/tracks/{row.track_id}?ref={code}"),
        created_at=row.created_at,
    )


def link_summary(row: Any) -> ShareLinkSummary:
    """A link as its organization lists it (never its token or code)."""
    return ShareLinkSummary(
        id=row.id,
        kind=row.kind,
        name=row.name,
        visibility=row.visibility,
        token_preview=row.token_preview,
        track_id=row.track_id,
        pack_id=row.pack_id,
        slug=row.slug,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        created_at=row.created_at,
    )


def link_lifecycle(row: Any, action: Literal["created", "revoked"]) -> ShareLinkLifecycle:
    """`share.lifecycle`: the name is announced when the link is made."""
    return ShareLinkLifecycle(
        action=action,
        link_id=row.id,
        link_kind=row.kind,
        organization_id=row.organization_id,
        owner_id=row.owner_id,
        track_id=row.track_id,
        pack_id=row.pack_id,
        name=row.name if action == "created" else None,
    )


def about(link: Any) -> dict[str, Any]:
    """What every engagement event says about the link it came through."""
    return {
        "link_id": link.id,
        "link_kind": link.kind,
        "link_owner_id": link.owner_id,
        "organization_id": link.organization_id,
        "pack_id": link.pack_id,
    }


def track_listened(report: ListenReport, link: Any, track: TrackSnapshot) -> TrackListened:
    """A beacon as `track.listened`, attributed to its link or, without one, to the track's
    organization. Raises pydantic's ValidationError for a beacon no event can hold."""
    return TrackListened(
        **(about(link) if link is not None else {"organization_id": track.organization_id}),
        track_id=report.track_id,
        play_id=report.play_id,
        intervals=tuple(report.intervals),
        duration_seconds=track.duration_seconds,
        visitor=Visitor(
            user_id=report.user_id,
            user_handle=report.user_handle,
            user_display_name=report.user_display_name,
            visitor_id=report.visitor_id,
            session_id=report.session_id,
            device=report.device,
        ),
    )
