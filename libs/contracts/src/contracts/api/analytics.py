"""Stats pages of a link, a pack or a track: what analytics' internal API answers and the
gateway serves as it is.

Wire names that are not Python names (`from`, `to`) or that a seed fixes in camelCase
(`uniqueVisitors` of a pack) are aliases; the apps serialize and document by alias
(servicekit.app.contract_plugins). Examples are per field: Litestar's OpenAPI renders
those, not a model's `json_schema_extra`."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from contracts.events import LinkKind

_LINK = "mslink_4e1b9c2a7f3d"


class Counters(BaseModel):
    """Counted engagements (a visitor's repeats within the dedupe window count once)."""

    views: int = Field(default=0, examples=[12])
    plays: int = Field(default=0, examples=[7])
    downloads: int = Field(default=0, examples=[1])
    reshares: int = Field(default=0, examples=[2])


class DailyCounters(BaseModel):
    date: dt.date = Field(description="A UTC day.", examples=["2026-01-15"])
    views: int = Field(default=0, examples=[5])
    plays: int = Field(default=0, examples=[3])
    downloads: int = Field(default=0, examples=[0])
    reshares: int = Field(default=0, examples=[1])


class SignedInListener(BaseModel):
    handle: str | None = Field(examples=["jon"])
    display_name: str | None = Field(examples=["Jon Ek"])
    plays: int = Field(examples=[2])


class Listeners(BaseModel):
    signed_in: list[SignedInListener] = Field(default_factory=list)
    anonymous: int = Field(default=0, description="Distinct anonymous listeners.", examples=[4])


class Activity(BaseModel):
    """What every report says about its scope."""

    totals: Counters
    unique_visitors: int = Field(
        description="Distinct visitors (visitorId, else the session).", examples=[9]
    )
    unique_sessions: int = Field(examples=[10])
    listeners: Listeners
    by_source: dict[str, Counters] = Field(
        description="Per `source` (the share's utm-like tag; `unknown` without one).",
        examples=[{"twitter": {"views": 8, "plays": 5, "downloads": 0, "reshares": 2}}],
    )
    daily: list[DailyCounters] = Field(
        description="One entry per UTC day of the range, at most 367 (a year is clamped)."
    )


class Report(Activity):
    """An `Activity` over a date range; `from`/`to` are null when the query left them open."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    start: dt.date | None = Field(alias="from", examples=["2026-01-14"])
    end: dt.date | None = Field(alias="to", examples=["2026-01-15"])


class LinkReport(Report):
    link_id: str = Field(examples=[_LINK])


class PackReport(Report):
    """Over every link of the pack."""

    pack_id: str = Field(examples=["mpack_7a3c1e9b2d4f"])
    unique_visitors_by_session: int = Field(
        alias="uniqueVisitors",
        description="Distinct sessions, as Swayzio counts visitors.",
        examples=[10],
    )


class LinkPlays(BaseModel):
    """Plays of a track that came through one link (`link_id` null: through none)."""

    link_id: str | None = Field(examples=[_LINK])
    link_kind: LinkKind | None = Field(examples=["track"])
    plays: int = Field(examples=[6])


class TrackReport(Report):
    """Plays over time, by source, and through which links."""

    track_id: str = Field(examples=["mtrack_9d2f4b1c8e6a"])
    by_link: list[LinkPlays]
