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
    qualified_plays: int = Field(default=0, examples=[2])


class SignedInListener(BaseModel):
    handle: str | None = Field(examples=["jon"])
    display_name: str | None = Field(examples=["Jon Ek"])
    plays: int = Field(examples=[2])


class Listeners(BaseModel):
    signed_in: list[SignedInListener] = Field(default_factory=list)
    anonymous: int = Field(default=0, description="Distinct anonymous listeners.", examples=[4])


class CompletionBuckets(BaseModel):
    """Plays that heard at least 25, 50, 75 and 100 % of the track (a funnel: a play that
    reached 75 % is in the first three). 100 % allows the last half second (encoder
    padding, the `ended` event's rounding)."""

    reached_25: int = Field(default=0, examples=[9])
    reached_50: int = Field(default=0, examples=[7])
    reached_75: int = Field(default=0, examples=[5])
    reached_100: int = Field(default=0, examples=[3])


class Listening(BaseModel):
    """Listen depth from the player's beacons (SPEC §9), by the UTC day each play started.
    A start is a new play id; plays counted before beacons existed (`track.played` facts
    before analytics' migration 0006) are starts without depth: they count in
    `play_starts` only. `totals.plays` still counts playback URLs issued (docs/listening.md)."""

    play_starts: int = Field(default=0, description="Distinct plays begun.", examples=[11])
    qualified_plays: int = Field(
        default=0,
        description="Plays that heard at least min(30 s, half the track).",
        examples=[7],
    )
    average_seconds_heard: float = Field(
        default=0.0, description="Over plays with beacons; 0 when none.", examples=[84.5]
    )
    completion: CompletionBuckets = Field(default_factory=CompletionBuckets)


class ListenerDepth(BaseModel):
    """How much of one track one listener heard, over all their plays in the range."""

    listener: str = Field(
        description="The handle of a signed-in listener, else `anonymous-` and a short "
        "stable hash of the visitor id (never the id itself).",
        examples=["jon"],
    )
    signed_in: bool = Field(examples=[True])
    display_name: str | None = Field(default=None, examples=["Jon Ek"])
    track_id: str = Field(examples=["mtrack_9d2f4b1c8e6a"])
    plays: int = Field(examples=[2])
    seconds_heard: float = Field(description="Union over their plays.", examples=[171.0])
    furthest_seconds: float = Field(examples=[180.0])
    completion: float = Field(description="seconds_heard ÷ duration, 0..1.", examples=[0.95])


class Devices(BaseModel):
    """Counted engagements by what they came from (ua-parser families); `unknown` for
    events recorded before devices were parsed."""

    by_browser: dict[str, int] = Field(default_factory=dict, examples=[{"Chrome": 8}])
    by_os: dict[str, int] = Field(default_factory=dict, examples=[{"Mac OS X": 5}])
    by_device_class: dict[str, int] = Field(
        default_factory=dict, examples=[{"desktop": 6, "mobile": 4}]
    )


class Excluded(BaseModel):
    """What was not counted as a person's engagement, and why (SPEC §9 "humans only")."""

    previews: int = Field(
        default=0, description="Opens by preview fetchers, bots, HEAD, prefetch.", examples=[3]
    )
    by_reason: dict[str, int] = Field(
        default_factory=dict, examples=[{"preview_fetcher": 2, "bot": 1}]
    )


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
    listening: Listening = Field(default_factory=Listening)
    listener_depth: list[ListenerDepth] = Field(
        default_factory=list,
        description="Per listener and track, most heard first, at most 100.",
    )
    devices: Devices = Field(default_factory=Devices)
    excluded: Excluded = Field(default_factory=Excluded)


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
