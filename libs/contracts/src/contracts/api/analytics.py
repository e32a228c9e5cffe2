"""Stats pages of a link, a pack or a track: what analytics' internal API answers and the
gateway serves as it is.

Wire names that are not Python names (`from`, `to`) or that a seed fixes in camelCase
(`uniqueVisitors` of a pack) are aliases; the apps serialize and document by alias
(servicekit.app.CONTRACT_PLUGINS)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class Counters(BaseModel):
    """Counted engagements (a visitor's repeats within the dedupe window count once)."""

    views: int = 0
    plays: int = 0
    downloads: int = 0
    reshares: int = 0


class DailyCounters(BaseModel):
    date: dt.date = Field(description="A UTC day.")
    views: int = 0
    plays: int = 0
    downloads: int = 0
    reshares: int = 0


class SignedInListener(BaseModel):
    handle: str | None
    display_name: str | None
    plays: int


class Listeners(BaseModel):
    signed_in: list[SignedInListener] = Field(default_factory=list)
    anonymous: int = Field(default=0, description="Distinct anonymous listeners.")


class Activity(BaseModel):
    """What every report says about its scope."""

    totals: Counters
    unique_visitors: int = Field(description="Distinct visitors (visitorId, else the session).")
    unique_sessions: int
    listeners: Listeners
    by_source: dict[str, Counters] = Field(
        description="Per `source` (the share's utm-like tag; `unknown` without one)."
    )
    daily: list[DailyCounters] = Field(
        description="One entry per UTC day of the range, at most 367 (a year is clamped)."
    )


class Report(Activity):
    """An `Activity` over a date range; `from`/`to` are null when the query left them open."""

    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True)

    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="to")


_EXAMPLE: dict[str, JsonValue] = {
    "from": "2026-01-14",
    "to": "2026-01-15",
    "totals": {"views": 12, "plays": 7, "downloads": 1, "reshares": 2},
    "unique_visitors": 9,
    "unique_sessions": 10,
    "listeners": {
        "signed_in": [{"handle": "jon", "display_name": "Jon Ek", "plays": 2}],
        "anonymous": 4,
    },
    "by_source": {"twitter": {"views": 8, "plays": 5, "downloads": 0, "reshares": 2}},
    "daily": [
        {"date": "2026-01-14", "views": 5, "plays": 3, "downloads": 0, "reshares": 1},
        {"date": "2026-01-15", "views": 7, "plays": 4, "downloads": 1, "reshares": 1},
    ],
}


class LinkReport(Report):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"link_id": "mslink_4e1b9c2a7f3d", **_EXAMPLE}]}
    )

    link_id: str


class PackReport(Report):
    """Over every link of the pack."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"pack_id": "mpack_7a3c1e9b2d4f", "uniqueVisitors": 10, **_EXAMPLE}]
        }
    )

    pack_id: str
    unique_visitors_by_session: int = Field(
        alias="uniqueVisitors", description="Distinct sessions, as Swayzio counts visitors."
    )


class LinkPlays(BaseModel):
    """Plays of a track that came through one link (`link_id` null: through none)."""

    link_id: str | None
    link_kind: str | None
    plays: int


class TrackReport(Report):
    """Plays over time, by source, and through which links."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "track_id": "mtrack_9d2f4b1c8e6a",
                    **_EXAMPLE,
                    "by_link": [
                        {"link_id": "mslink_4e1b9c2a7f3d", "link_kind": "track", "plays": 6},
                        {"link_id": None, "link_kind": None, "plays": 1},
                    ],
                }
            ]
        }
    )

    track_id: str
    by_link: list[LinkPlays]
