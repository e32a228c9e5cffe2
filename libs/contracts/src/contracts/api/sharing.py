"""Sharing's shapes as callers see them: link options, what creating a link answers, and the
payloads of the public share surfaces. Sharing builds them; the gateway validates and
documents them.

Names are snake_case, except on the surfaces whose seeds fix camelCase names (pack links,
split-sheet links, plays): there the seeds' spelling is kept, as SPEC §6 says.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
)

from contracts.api.catalog import MAX_GRANTEES, MAX_LINK_NAME, Storable, optional_storable
from contracts.decimals import DecimalText
from contracts.dto import LinkVisibility, PublicTrack
from contracts.text import trim

# A channel must keep a character once sharing cleans it (contracts/text.py drops control
# characters and strips blanks): the schema says so, so what it calls valid is accepted.
VISIBLE_CHARACTER = r"[^\s\x00-\x1f\x7f]"


def _cleaned(value: str) -> str:
    cleaned = trim(value)
    if cleaned is None:  # the pattern already refused it; kept so the type holds
        raise ValueError("blank once cleaned")
    return cleaned


class Acknowledged(BaseModel):
    """A recorded (or, for an unknown ref code, silently ignored) engagement."""

    ok: Literal[True]


class ShareEvent(BaseModel):
    """A visitor shared the page through some channel (`share.recorded`)."""

    # Python's `re`, as `str.strip` and the schema's generators read `\s`
    model_config = ConfigDict(regex_engine="python-re")

    channel: Annotated[
        str,
        # constraints as StringConstraints: the form Litestar carries into the document
        StringConstraints(min_length=1, max_length=1000, pattern=VISIBLE_CHARACTER),
        Field(
            description="where it was shared; cleaned and cut to 120 characters",
            examples=["whatsapp"],
        ),
        AfterValidator(_cleaned),
    ]


class CreatePackLink(BaseModel):
    """Options of a new pack link; the body may be left out altogether."""

    name: Storable | None = Field(
        json_schema_extra=optional_storable(),
        default=None,
        max_length=MAX_LINK_NAME,
        examples=["For DJs"],
    )
    access_code: Storable | None = Field(
        json_schema_extra=optional_storable(),
        default=None,
        min_length=4,
        max_length=64,
        description="visitors must send it as `?accessCode=`",
        examples=["open-sesame"],
    )
    disable_downloads: bool = Field(default=False, examples=[True])
    expires_in_days: int | None = Field(
        default=None, ge=1, examples=[30], description="clamped to the longest a link may live"
    )
    grantees: list[Storable] = Field(
        default_factory=list,
        max_length=MAX_GRANTEES,
        description="handles of users who may open it signed in, at /v1/pack-links/{slug}",
        examples=[["dj_anna"]],
    )


class PackLinkCreated(BaseModel):
    id: str
    slug: str
    url: str
    target_type: Literal["pack"]
    pack_id: str
    name: str | None
    visibility: LinkVisibility
    disable_downloads: bool
    has_access_code: bool
    grantees: list[str]
    expires_at: datetime | None
    created_at: datetime


class CreateSplitSheetLink(BaseModel):
    """Options of a new split-sheet link; the body may be left out altogether."""

    name: Storable | None = Field(
        json_schema_extra=optional_storable(),
        default=None,
        max_length=MAX_LINK_NAME,
        examples=["For the label"],
    )
    expires_in_days: int | None = Field(
        default=None, ge=1, examples=[3], description="clamped to the longest a link may live"
    )


class PackLinkSummary(BaseModel):
    """The link part of a pack presentation: snake_case, but `expiresAt` as the Swayzio
    seed spells it (SPEC §6's list)."""

    slug: str
    name: str | None
    disable_downloads: bool
    expiresAt: datetime | None  # noqa: N815 - the seed's wire name
    created_at: datetime


class PackContents(BaseModel):
    id: str
    title: str
    description: str | None
    tracks: list[PublicTrack]


class PackPresentation(BaseModel):
    """A pack link's page: the pack's tracks that are still shareable, in the pack's order."""

    link: PackLinkSummary
    pack: PackContents


class SplitSheetLinkSummary(BaseModel):
    """The link envelope of an opened split sheet; `expiresAt` only when the link expires."""

    name: str | None
    status: Literal["draft", "sent", "signed"]
    tokenPreview: str | None  # noqa: N815 - the seed's wire names
    trackId: str  # noqa: N815
    created_at: datetime
    updated_at: datetime
    expiresAt: datetime | None = None  # noqa: N815

    @model_serializer(mode="wrap")
    def _without_absent_expiry(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and data.get("expiresAt") is None:
            data.pop("expiresAt", None)
        return data


class SharedContributor(BaseModel):
    name: str
    user_handle: str | None
    role: str
    percentage: DecimalText


class SharedSplitSheet(BaseModel):
    id: str
    trackId: str  # noqa: N815 - the seed's wire names
    track_title: str | None
    status: Literal["draft", "sent", "signed"]
    contributors: list[SharedContributor]
    updated_at: datetime


class SplitSheetLinkView(BaseModel):
    link: SplitSheetLinkSummary
    splitSheet: SharedSplitSheet  # noqa: N815 - the seed's wire name


class RefShareCreated(BaseModel):
    """A new ref code; `url` is the public track's URL with `?ref=CODE`."""

    id: str
    code: str = Field(examples=["a1B2c3D4"])
    track_id: str
    url: str
    created_at: datetime


class PlayReport(BaseModel):
    """A listener heard the track; the client decides when (e.g. after min(30 s, half))."""

    ref: str | None = Field(default=None, max_length=64, examples=["a1B2c3D4"])
    visitorId: str | None = Field(default=None, max_length=1000, examples=["v_7f3a"])  # noqa: N815 - wire name
    sessionId: str | None = Field(default=None, max_length=1000, examples=["s_91c2"])  # noqa: N815
    source: str | None = Field(default=None, max_length=1000, examples=["embed"])
