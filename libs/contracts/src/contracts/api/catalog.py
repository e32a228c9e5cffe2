"""The catalog area of the API: tracks, albums, packs, split sheets and the public catalog.

Catalog takes and answers these bodies on its internal API, and the gateway declares the
same ones on its routes, so the OpenAPI document says what catalog really does. Uploads are
multipart forms the gateway streams through unread; their models only describe the parts
(catalog parses the form itself, with the bounds named here)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints
from pydantic.config import JsonDict

from contracts.dto import PackView, Page, TrackView, Visibility

MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_SLUG = 80
MAX_TRACK_IDS = 500
MAX_LIST_JSON = 16 * 1024  # a tags/features array as sent, before it is parsed
MAX_SUPPORT_GATE = 4 * 1024  # characters of the support gate's JSON
MAX_LINK_NAME = 120
MAX_GRANTEES = 100
# Postgres text cannot hold NUL: such input would only come back as a 422 from the database
STORABLE = r"^[^\x00]*$"
Storable = Annotated[str, StringConstraints(pattern=STORABLE)]


def each_once() -> JsonDict:
    """`uniqueItems` for a list of ids where a repeat is refused (422 "each id once"), so a
    client generated from the document knows it (a new dict each time, as below)."""
    return {"uniqueItems": True}


def optional_storable() -> JsonDict:
    """Litestar documents the pattern of a plain `Storable` only: an optional one says it
    here (a new dict each time: Litestar adds the field's examples into it)."""
    return {"pattern": STORABLE}


# an album slug: lowercase letters and digits in words joined by single dashes (catalog
# derives one from the title when none is given, and refuses any other with a 422)
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

TRACK_ID_EXAMPLE = "mtrack_3f9a1c2b7d4e"
PACK_ID_EXAMPLE = "mpack_8b2e4f6a1c3d"


# --- multipart forms (documented; streamed to catalog, which parses them) ---


class TrackUploadForm(BaseModel):
    """`POST …/tracks`: the audio file and its first metadata."""

    file: bytes = Field(description="The audio: WAV, MP3, FLAC, Ogg (Vorbis/Opus) or M4A")
    title: Storable = Field(min_length=1, max_length=MAX_TITLE, examples=["Night Drive"])
    visibility: Visibility = Field(default="public", description="Who may see the track")
    album_id: Storable | None = Field(
        json_schema_extra=optional_storable(),
        default=None,
        description="One of your albums to put the track on",
    )


class TrackUpdateForm(BaseModel):
    """`PATCH …/tracks/{track_id}`: only the fields sent change."""

    title: Storable | None = Field(
        json_schema_extra=optional_storable(), default=None, min_length=1, max_length=MAX_TITLE
    )
    album: Storable | None = Field(
        json_schema_extra=optional_storable(),
        default=None,
        max_length=MAX_TITLE,
        description="An album title, found or created; empty to leave the album",
    )
    features: Storable | None = Field(
        json_schema_extra=optional_storable(),
        default=None,
        max_length=MAX_LIST_JSON,
        description="A JSON array of featured artists' names (up to 20 of up to 80 characters)",
        examples=['["Ada", "Grace"]'],
    )
    tags: Storable | None = Field(
        json_schema_extra=optional_storable(),
        default=None,
        max_length=MAX_LIST_JSON,
        description="A JSON array of tags (up to 20 of up to 40 characters)",
        examples=['["ambient", "demo"]'],
    )
    description: Storable | None = Field(
        json_schema_extra=optional_storable(), default=None, max_length=MAX_DESCRIPTION
    )
    support_gate: Storable | None = Field(
        json_schema_extra=optional_storable(),
        default=None,
        max_length=MAX_SUPPORT_GATE,
        description="A JSON object (nested at most 8 levels), or `null` to remove it",
        examples=['{"type": "follow"}'],
    )
    visibility: Visibility | None = None
    image: bytes | None = Field(default=None, description="New artwork: PNG, JPEG or WebP")
    remove_image: Literal["true", "false"] | None = Field(
        default=None, description="`true` removes the artwork (not with `image`)"
    )


class AlbumCoverForm(BaseModel):
    """`POST …/albums/{album_id}/cover`: the cover image."""

    image: bytes = Field(description="PNG, JPEG or WebP")


# --- tracks ---


class TrackPage(Page):
    items: list[TrackView]


class DeletedTrack(BaseModel):
    id: str = Field(examples=[TRACK_ID_EXAMPLE])
    deleted: bool


# --- albums ---


class CreateAlbum(BaseModel):
    """A new album shell; the same title (or slug) again answers the album you have."""

    title: Storable = Field(min_length=1, max_length=MAX_TITLE, examples=["Late Summer"])
    slug: Storable | None = Field(
        json_schema_extra={"pattern": SLUG_PATTERN},
        default=None,
        max_length=MAX_SLUG,
        examples=["late-summer"],
    )
    description: Storable | None = Field(
        json_schema_extra=optional_storable(), default=None, max_length=MAX_DESCRIPTION
    )


class UpdateAlbum(BaseModel):
    """A new title moves the slug (the old one keeps working); `description: null` clears."""

    title: Storable | None = Field(
        json_schema_extra=optional_storable(),
        default=None,
        min_length=1,
        max_length=MAX_TITLE,
        examples=["Late Summer (Deluxe)"],
    )
    description: Storable | None = Field(
        json_schema_extra=optional_storable(), default=None, max_length=MAX_DESCRIPTION
    )


class FinalizeAlbum(BaseModel):
    """Tracks of the album, appended in this order; the first success releases it."""

    track_ids: list[Storable] = Field(
        min_length=1,
        max_length=MAX_TRACK_IDS,
        examples=[[TRACK_ID_EXAMPLE]],
        json_schema_extra=each_once(),
    )


class RemovedAlbumTrack(BaseModel):
    album_id: str
    track_id: str
    removed: bool


class DeletedAlbum(BaseModel):
    album_id: str
    deleted: bool
    cascade: bool
    tracks: list[str] = Field(description="The album's tracks: orphaned, or deleted (cascade)")


# --- packs ---


class CreatePack(BaseModel):
    """Only your own tracks of this organization, each once."""

    title: Storable = Field(min_length=1, max_length=MAX_TITLE, examples=["For the label"])
    description: Storable | None = Field(
        json_schema_extra=optional_storable(), default=None, max_length=MAX_DESCRIPTION
    )
    track_ids: list[Storable] = Field(
        default_factory=list,
        max_length=MAX_TRACK_IDS,
        examples=[[TRACK_ID_EXAMPLE]],
        json_schema_extra=each_once(),
    )


class UpdatePack(BaseModel):
    title: Storable | None = Field(
        json_schema_extra=optional_storable(), default=None, min_length=1, max_length=MAX_TITLE
    )
    description: Storable | None = Field(
        json_schema_extra=optional_storable(), default=None, max_length=MAX_DESCRIPTION
    )


class PackTracks(BaseModel):
    """Tracks to append, or (`PUT`) the pack's own tracks in their new order."""

    track_ids: list[Storable] = Field(
        min_length=1,
        max_length=MAX_TRACK_IDS,
        examples=[[TRACK_ID_EXAMPLE]],
        json_schema_extra=each_once(),
    )


class PackPage(Page):
    items: list[PackView]


class DeletedPack(BaseModel):
    id: str = Field(examples=[PACK_ID_EXAMPLE])
    deleted: bool


# --- split sheets ---


class ContributorInput(BaseModel):
    name: Storable = Field(min_length=1, max_length=120, examples=["Ada Lovelace"])
    user_handle: Storable | None = Field(
        json_schema_extra=optional_storable(), default=None, max_length=40
    )
    role: Storable = Field(min_length=1, max_length=60, examples=["producer"])
    percentage: float | Storable = Field(  # a union whose branches overlap is no valid oneOf
        description="A share in (0, 100] with at most two decimals, as a number or its text",
        examples=["33.33", 50],
    )


class SplitSheetInput(BaseModel):
    """The contributors; their percentages sum to exactly 100."""

    contributors: list[ContributorInput] = Field(min_length=1, max_length=50)


class SplitSheetStatusChange(BaseModel):
    """draft -> sent -> signed; nothing leaves `signed`."""

    status: Literal["draft", "sent", "signed"] = Field(examples=["sent"])
