"""Every event Encore publishes, wrapped in one envelope.

An envelope names its `type`; `EVENT_TYPES` maps that name to the payload model and the
topic it travels on. Keys keep one target's events in order on one partition.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from contracts import topics
from contracts.decimals import DecimalText
from contracts.ids import new_event_id
from contracts.media import ArtworkVariant
from contracts.text import SHORT_TEXT_CHARS, printable

ShortText = Annotated[
    str, AfterValidator(printable), StringConstraints(max_length=SHORT_TEXT_CHARS)
]


class Payload(BaseModel):
    """Base of every event payload; `TYPE`/`TOPIC` say where it goes, `key()` how it is keyed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]
    VERSION: ClassVar[int] = 1

    def key(self) -> str:
        raise NotImplementedError  # every concrete payload defines its partition key


DeviceClass = Literal["desktop", "mobile", "tablet", "bot", "other"]


class Device(BaseModel):
    """What the gateway parsed from the User-Agent (ua-parser); the raw string is never kept."""

    model_config = ConfigDict(frozen=True)

    browser: ShortText | None = None  # family, e.g. "Chrome", "Mobile Safari"
    os: ShortText | None = None  # family, e.g. "Mac OS X", "Android"
    device_class: DeviceClass = "other"


class Visitor(BaseModel):
    """Who engaged: a signed-in user and/or the anonymous ids the client sends, and the
    device it came from (absent on events recorded before devices were parsed)."""

    model_config = ConfigDict(frozen=True)

    user_id: str | None = None
    user_handle: str | None = None
    user_display_name: str | None = None
    visitor_id: ShortText | None = None
    session_id: ShortText | None = None
    source: ShortText = "pack_link"
    device: Device | None = None


LinkKind = Literal["ref", "track", "pack", "split_sheet"]


class EngagementPayload(Payload):
    """Fields every engagement event carries so analytics can attribute and filter it."""

    link_id: str | None = None
    link_kind: LinkKind | None = None
    link_owner_id: str | None = None
    organization_id: str | None = None
    track_id: str | None = None
    pack_id: str | None = None
    visitor: Visitor = Field(default_factory=Visitor)

    def key(self) -> str:
        return self.link_id or self.track_id or self.pack_id or ""


class TrackPlayed(EngagementPayload):
    TYPE: ClassVar[str] = "track.played"
    TOPIC: ClassVar[str] = topics.TRACK_PLAYED

    track_id: str
    duration_seconds: float | None = None

    def key(self) -> str:
        return self.track_id


class TrackDownloaded(EngagementPayload):
    TYPE: ClassVar[str] = "track.downloaded"
    TOPIC: ClassVar[str] = topics.TRACK_DOWNLOADED

    track_id: str

    def key(self) -> str:
        return self.track_id


class PackViewed(EngagementPayload):
    TYPE: ClassVar[str] = "pack.viewed"
    TOPIC: ClassVar[str] = topics.PACK_VIEWED

    pack_id: str
    link_id: str

    def key(self) -> str:
        return self.link_id


class ShareClicked(EngagementPayload):
    TYPE: ClassVar[str] = "share.clicked"
    TOPIC: ClassVar[str] = topics.SHARE_CLICKED

    link_id: str
    link_kind: LinkKind

    def key(self) -> str:
        return self.link_id


class ShareRecorded(EngagementPayload):
    TYPE: ClassVar[str] = "share.recorded"
    TOPIC: ClassVar[str] = topics.SHARE_RECORDED

    link_id: str
    channel: ShortText

    def key(self) -> str:
        return self.link_id


class TrackListened(EngagementPayload):
    """What one play (`play_id`, chosen by the player per playback) heard since its last
    beacon: intervals [from, to) in seconds of the track. Analytics keeps the union per
    play, so a beacon delivered twice, or a part heard again after seeking back, adds
    nothing. `duration_seconds` is the track's decoded duration when the gateway knew it."""

    TYPE: ClassVar[str] = "track.listened"
    TOPIC: ClassVar[str] = topics.TRACK_LISTENED

    track_id: str
    play_id: ShortText
    intervals: tuple[tuple[float, float], ...] = Field(min_length=1, max_length=50)
    duration_seconds: float | None = None

    def key(self) -> str:
        return self.track_id


PreviewReason = Literal["preview_fetcher", "bot", "head", "prefetch"]


class SharePreviewed(EngagementPayload):
    """An open of a link that is not a person's view (SPEC §9 "humans only"): counted
    apart as a preview, with why it was excluded."""

    TYPE: ClassVar[str] = "share.previewed"
    TOPIC: ClassVar[str] = topics.SHARE_PREVIEWED

    link_id: str
    link_kind: LinkKind
    reason: PreviewReason

    def key(self) -> str:
        return self.link_id


class ShareLinkLifecycle(Payload):
    TYPE: ClassVar[str] = "share.lifecycle"
    TOPIC: ClassVar[str] = topics.SHARE_LIFECYCLE

    action: Literal["created", "revoked", "expired"]
    link_id: str
    link_kind: LinkKind
    organization_id: str
    owner_id: str
    track_id: str | None = None
    pack_id: str | None = None
    name: str | None = None

    def key(self) -> str:
        return self.link_id


class TrackSnapshot(BaseModel):
    """What other services may know about a track: no storage location, ever."""

    model_config = ConfigDict(frozen=True)

    track_id: str
    organization_id: str
    owner_id: str
    owner_handle: str | None = None
    owner_display_name: str | None = None
    title: str
    visibility: Literal["public", "private"]
    album_id: str | None = None
    album_position: int | None = None
    features: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    description: str | None = None
    has_artwork: bool = False
    content_type: str
    size_bytes: int
    duration_seconds: float | None = None
    created_at: datetime
    updated_at: datetime
    processing_state: Literal["processing", "ready", "failed"] | None = None
    # what link pages show of the processed media (absent in snapshots from before)
    has_peaks: bool = False
    loudness_lufs: float | None = None
    true_peak_dbtp: float | None = None
    # the track's artwork sizes (empty without artwork, and in snapshots from before)
    artwork_sizes: list[ArtworkVariant] = Field(default_factory=list)


class TrackChanged(Payload):
    """A track was created or changed; carries the whole snapshot so replicas can upsert."""

    TYPE: ClassVar[str] = "track.changed"
    TOPIC: ClassVar[str] = topics.CATALOG_LIFECYCLE

    action: Literal["created", "updated"]
    track: TrackSnapshot

    def key(self) -> str:
        return self.track.track_id


class TrackDeleted(Payload):
    TYPE: ClassVar[str] = "track.deleted"
    TOPIC: ClassVar[str] = topics.CATALOG_LIFECYCLE

    track_id: str
    organization_id: str
    owner_id: str
    deleted_at: datetime

    def key(self) -> str:
        return self.track_id


class MediaJob(Payload):
    """Process the upload `audio_key` of a track (SPEC §7). The key names the upload
    version: a job for a key the track no longer has, or has finished, is a no-op."""

    TYPE: ClassVar[str] = "media.job"
    TOPIC: ClassVar[str] = topics.MEDIA_JOBS

    track_id: str
    audio_key: str
    reason: Literal["upload", "replace", "backfill", "retry"] = "upload"

    def key(self) -> str:
        return self.track_id


class AlbumChanged(Payload):
    TYPE: ClassVar[str] = "album.changed"
    TOPIC: ClassVar[str] = topics.CATALOG_LIFECYCLE

    action: Literal["created", "updated", "deleted"]
    album_id: str
    organization_id: str
    owner_id: str
    owner_handle: str
    slug: str
    previous_slugs: list[str] = Field(default_factory=list)
    track_ids: list[str] = Field(default_factory=list)

    def key(self) -> str:
        return self.album_id


class AlbumReleased(Payload):
    """The first successful finalize of an album: emitted exactly once per album."""

    TYPE: ClassVar[str] = "album.released"
    TOPIC: ClassVar[str] = topics.CATALOG_LIFECYCLE

    album_id: str
    organization_id: str
    owner_id: str
    owner_handle: str
    slug: str
    released_at: datetime
    track_ids: list[str]

    def key(self) -> str:
        return self.album_id


class PackChanged(Payload):
    TYPE: ClassVar[str] = "pack.changed"
    TOPIC: ClassVar[str] = topics.CATALOG_LIFECYCLE

    action: Literal["created", "updated", "deleted"]
    pack_id: str
    organization_id: str
    owner_id: str
    title: str
    description: str | None = None
    track_ids: list[str] = Field(default_factory=list)
    # the pack's version (catalog's `updated_at`): a replica keeps the newest it has seen,
    # so a replayed or reordered older event cannot undo a newer one; absent in events
    # written before it existed
    updated_at: datetime | None = None

    def key(self) -> str:
        return self.pack_id


class Contributor(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    user_handle: str | None = None
    role: str
    percentage: DecimalText  # e.g. "33.33": exact, unlike a float


class SplitSheetSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    split_sheet_id: str
    track_id: str
    organization_id: str
    owner_id: str
    status: Literal["draft", "sent", "signed"]
    contributors: list[Contributor]
    created_at: datetime
    updated_at: datetime


class SplitSheetChanged(Payload):
    TYPE: ClassVar[str] = "split_sheet.changed"
    TOPIC: ClassVar[str] = topics.CATALOG_LIFECYCLE

    action: Literal["created", "updated", "deleted"]
    split_sheet: SplitSheetSnapshot

    def key(self) -> str:
        return self.split_sheet.track_id


EVENT_TYPES: dict[str, type[Payload]] = {
    model.TYPE: model
    for model in (
        TrackPlayed,
        TrackDownloaded,
        PackViewed,
        ShareClicked,
        ShareRecorded,
        TrackListened,
        SharePreviewed,
        ShareLinkLifecycle,
        TrackChanged,
        TrackDeleted,
        MediaJob,
        AlbumChanged,
        AlbumReleased,
        PackChanged,
        SplitSheetChanged,
    )
}

P = TypeVar("P", bound=Payload)


class EventEnvelope(BaseModel, Generic[P]):
    """The wire format of every Kafka message value."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID
    type: str
    version: int = 1
    occurred_at: datetime
    producer: str
    trace_id: str | None = None
    payload: P

    @property
    def topic(self) -> str:
        return self.payload.TOPIC

    @property
    def key(self) -> str:
        return self.payload.key()


def wrap(
    payload: P,
    *,
    producer: str,
    trace_id: str | None = None,
    event_id: uuid.UUID | None = None,
    occurred_at: datetime | None = None,
) -> EventEnvelope[P]:
    """Put a payload in an envelope: a new event id and the current UTC time unless the
    caller already fixed them (an event retried from elsewhere must keep its id)."""
    # parametrized by the concrete payload class, so serialization keeps all its fields
    concrete: Any = _ENVELOPES.get(payload.TYPE) or EventEnvelope[type(payload)]  # type: ignore[misc]
    return cast(
        "EventEnvelope[P]",
        concrete(
            event_id=event_id or new_event_id(),
            type=payload.TYPE,
            version=payload.VERSION,
            occurred_at=occurred_at or datetime.now(UTC),
            producer=producer,
            trace_id=trace_id,
            payload=payload,
        ),
    )


class UnknownEventType(ValueError):
    pass


# one concrete envelope class per event type, built once (building them is not free)
_ENVELOPES: dict[str, type[EventEnvelope[Any]]] = {
    name: EventEnvelope[model]  # type: ignore[valid-type]
    for name, model in EVENT_TYPES.items()
}
_TYPE_FIELD = re.compile(rb'"type"\s*:\s*"([a-z_.]{1,64})"')


def parse_event(raw: bytes | str) -> EventEnvelope[Payload]:
    """Validate a message value into the envelope of its declared type.

    Raises `pydantic.ValidationError` or `UnknownEventType`; consumers send either to the
    dead-letter topic. The declared type is found with a cheap scan first (consumers parse
    hundreds of thousands of these a second), then the whole value is validated once.
    """
    data = raw.encode() if isinstance(raw, str) else raw
    found = _TYPE_FIELD.search(data)
    declared = found.group(1).decode() if found else _EnvelopeHeader.model_validate_json(data).type
    envelope_type = _ENVELOPES.get(declared)
    if envelope_type is None:
        raise UnknownEventType(f"unknown event type {declared!r}")
    envelope = envelope_type.model_validate_json(data)
    if envelope.type != declared:  # the scan hit a nested "type"; trust only the envelope's
        return parse_event_slow(data)
    return cast("EventEnvelope[Payload]", envelope)


def parse_event_slow(data: bytes) -> EventEnvelope[Payload]:
    declared = _EnvelopeHeader.model_validate_json(data).type
    envelope_type = _ENVELOPES.get(declared)
    if envelope_type is None:
        raise UnknownEventType(f"unknown event type {declared!r}")
    return cast("EventEnvelope[Payload]", envelope_type.model_validate_json(data))


class _EnvelopeHeader(BaseModel):
    type: str
