"""Payloads that cross a service boundary over HTTP (internal APIs and the gateway)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.decimals import DecimalText
from contracts.events import Device, LinkKind, PreviewReason
from contracts.media import ArtworkSize, MediaSource, ProcessingState

Visibility = Literal["public", "private"]
LinkVisibility = Literal["link_only", "public"]


class Artist(BaseModel):
    handle: str | None = None
    display_name: str | None = None


class PublicTrack(BaseModel):
    """A track as anyone may see it: no owner id, no storage location."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    artist: Artist
    album_id: str | None = None
    features: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    description: str | None = None
    duration_seconds: float | None = None
    content_type: str
    has_artwork: bool = False
    artwork_url: str | None = None
    created_at: datetime
    # SPEC §7: what the media worker made of the upload (never a storage key)
    processing_state: ProcessingState = "processing"
    processing_reason: str | None = None  # failed only: a sentence a person can read
    peaks_url: str | None = None  # a media URL of the waveform JSON; null until ready
    artwork_sizes: list[ArtworkSize] = Field(default_factory=list)
    loudness_lufs: float | None = None
    true_peak_dbtp: float | None = None


class TrackView(PublicTrack):
    """A track as its organization sees it."""

    organization_id: str
    visibility: Visibility
    size_bytes: int
    checksum_sha256: str
    support_gate: dict[str, object] | None = None
    album_position: int | None = None
    updated_at: datetime


class SignedUrl(BaseModel):
    url: str
    expires_at: datetime
    content_type: str | None = None
    # playback only: the renditions, opus/webm first then aac/mp4 (`url` is the aac one)
    sources: list[MediaSource] = Field(default_factory=list)


class MediaAccess(BaseModel):
    """Sharing's answer to the gateway: may a media URL issued through this link, for this
    track, still be served? `live` is false for an unknown, revoked or expired link, a track
    no longer in it, or a track that is private or deleted."""

    live: bool
    link_kind: str | None = None
    pack_id: str | None = None
    expires_at: datetime | None = None


class CreateTrackLink(BaseModel):
    """Options of a new track link; the body may be left out altogether."""

    model_config = ConfigDict(extra="forbid")

    visibility: LinkVisibility = Field(default="link_only", examples=["link_only"])
    expires_in_days: int | None = Field(
        default=None, ge=1, examples=[7], description="clamped to the longest a link may live"
    )


class ShareLinkCreated(BaseModel):
    """A new capability link (track, split sheet): the raw token is in this answer only."""

    id: str
    token: str
    url: str
    target_type: Literal["track", "pack", "split_sheet"]
    visibility: LinkVisibility
    expires_at: datetime | None
    created_at: datetime


class LinkStats(BaseModel):
    views: int = 0
    plays: int = 0
    downloads: int = 0
    reshares: int = 0
    unique_visitors: int = 0
    qualified_plays: int = 0  # plays that heard min(30 s, half the track) (SPEC §9)
    previews: int = 0  # opens by preview fetchers, bots, HEAD and prefetch: not views


class ShareLinkSummary(BaseModel):
    id: str
    kind: LinkKind
    name: str | None = None
    visibility: LinkVisibility
    token_preview: str | None = None
    track_id: str | None = None
    pack_id: str | None = None
    slug: str | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    created_at: datetime
    stats: LinkStats = Field(default_factory=LinkStats)


class ShareLinkPage(BaseModel):
    items: list[ShareLinkSummary]
    total: int
    limit: int
    offset: int


MAX_FILTER_ID = 200  # longer than any id we make; bounds what a filter sends to sharing


class ShareLinkFilter(BaseModel):
    """Which of an organization's links a list page holds (every one when nothing is set):
    the query of `GET /v1/music/{org}/shares` and of sharing's internal list, so both sides
    take the same names and sharing filters in SQL."""

    model_config = ConfigDict(frozen=True)

    kind: LinkKind | None = None
    track_id: str | None = Field(default=None, min_length=1, max_length=MAX_FILTER_ID)
    pack_id: str | None = Field(default=None, min_length=1, max_length=MAX_FILTER_ID)

    def query(self) -> dict[str, str]:
        """The set filters as query parameters (none: the unfiltered list's query)."""
        return {name: str(value) for name, value in self.model_dump(exclude_none=True).items()}


class Page(BaseModel):
    total: int
    limit: int
    offset: int


class AlbumSummary(BaseModel):
    id: str
    slug: str
    title: str
    description: str | None = None
    artist: Artist
    cover_url: str | None = None
    cover_sizes: list[ArtworkSize] = Field(default_factory=list)  # empty without a cover
    released_at: datetime | None = None
    track_count: int = 0
    created_at: datetime
    updated_at: datetime


class AlbumDetail(AlbumSummary):
    tracks: list[PublicTrack] = Field(default_factory=list)


class AlbumPage(Page):
    items: list[AlbumSummary]


class PackView(BaseModel):
    id: str
    organization_id: str
    title: str
    description: str | None = None
    track_ids: list[str] = Field(default_factory=list)
    tracks: list[PublicTrack] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class ContributorView(BaseModel):
    name: str
    user_handle: str | None = None
    role: str
    percentage: DecimalText


class SplitSheetView(BaseModel):
    id: str
    track_id: str
    status: Literal["draft", "sent", "signed"]
    contributors: list[ContributorView]
    created_at: datetime
    updated_at: datetime


class TrackLinkResolveRequest(BaseModel):
    """Raw tokens of track links the gateway has not cached yet, coalesced into one call."""

    tokens: list[Annotated[str, StringConstraints(max_length=200)]] = Field(
        min_length=1, max_length=1000
    )


class TrackLinkSummary(BaseModel):
    """The link part of an opened track link: nothing of its owner or its token."""

    id: str
    target_type: Literal["track"]
    visibility: LinkVisibility
    expires_at: datetime | None
    created_at: datetime


class TrackLinkView(BaseModel):
    """What anyone holding a track link's token sees."""

    link: TrackLinkSummary
    track: PublicTrack


class ResolvedTrackLink(BaseModel):
    """A live track link as the gateway caches it: the public payload to serve, plus what
    it needs to expire the entry and to drop it on `share.lifecycle`/`catalog.lifecycle`."""

    link_id: str
    track_id: str
    track_updated_at: datetime  # the version of the track the view was built from
    expires_at: datetime | None
    view: TrackLinkView


class TrackLinkResolveResults(BaseModel):
    """One entry per token, in order; None where the link is unavailable."""

    links: list[ResolvedTrackLink | None]


class TrackLinkVisit(BaseModel):
    """One served open of a track link, for sharing to record as `share.clicked`.

    The gateway picks the event id when it serves the open and keeps it across retries, so
    a batch sent twice (a timeout after sharing committed) is still counted once."""

    event_id: uuid.UUID
    occurred_at: datetime
    link_id: str = Field(max_length=200)
    params: dict[str, str] = Field(default_factory=dict)
    user_id: str | None = None
    user_handle: str | None = None
    user_display_name: str | None = None
    traceparent: str | None = None  # W3C: the trace of the request that served it
    device: Device | None = None  # parsed by the gateway; the raw User-Agent never travels
    preview: PreviewReason | None = None  # not a person's view: recorded as share.previewed


class TrackLinkVisitBatch(BaseModel):
    visits: list[TrackLinkVisit] = Field(min_length=1, max_length=1000)


class TrackLinkVisitsRecorded(BaseModel):
    """How many visits became events (an owner's own visit, or an unknown link, does not)."""

    recorded: int


class ListenReport(BaseModel):
    """One listening beacon the gateway accepted, for sharing to record as `track.listened`
    (SPEC §9). What it played through is one of `link_id` (a track link the gateway had
    cached and checked), `token_hash` (a track link it had not), `slug` (a pack link), `ref`
    (a ref code) or none (an unattributed public track page); sharing checks that the link
    is live and holds the track, and drops the beacon otherwise. The event id is derived
    from the beacon's content by the gateway, so the same beacon sent again is one event."""

    event_id: uuid.UUID
    occurred_at: datetime
    link_id: str | None = Field(default=None, max_length=200)
    token_hash: str | None = Field(default=None, max_length=200)
    slug: str | None = Field(default=None, max_length=200)
    ref: str | None = Field(default=None, max_length=64)
    track_id: str = Field(max_length=64)
    play_id: str = Field(max_length=120)
    intervals: list[tuple[float, float]] = Field(min_length=1, max_length=50)
    visitor_id: str | None = Field(default=None, max_length=120)
    session_id: str | None = Field(default=None, max_length=120)
    user_id: str | None = None
    user_handle: str | None = None
    user_display_name: str | None = None
    device: Device | None = None
    traceparent: str | None = None  # W3C: the trace of the request that served it


class ListenReportBatch(BaseModel):
    listens: list[ListenReport] = Field(min_length=1, max_length=1000)


class ListensRecorded(BaseModel):
    """How many beacons became events; the rest were dropped (link unavailable, track not
    in it, the owner's own listening)."""

    recorded: int
    dropped: int
