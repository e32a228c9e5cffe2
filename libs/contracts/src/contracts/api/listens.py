"""Listening beacons (SPEC §9): what a player heard, as intervals of one play.

Sent by the web player with `navigator.sendBeacon` every ~10 s and on pause, seek, end
and page hide. Batched; every bound is strict, so a body is either wholly valid or
refused. Recording them as analytics events is issue 17: today the gateway validates
them, answers 202 and counts accepted and rejected batches."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_LISTEN_BODY_BYTES = 8 * 1024
MAX_BEACONS = 20
MAX_INTERVALS = 50
MAX_POSITION_SECONDS = 7200.0  # the longest track the media pipeline accepts

Ident = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_\-.:]+$")


class ListenedInterval(BaseModel):
    """[from, to) in seconds of the track's timeline that played."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_seconds: float = Field(alias="from", ge=0, le=MAX_POSITION_SECONDS)
    to_seconds: float = Field(alias="to", ge=0, le=MAX_POSITION_SECONDS)

    @model_validator(mode="after")
    def _ordered(self) -> ListenedInterval:
        if self.to_seconds < self.from_seconds:
            raise ValueError("an interval ends before it starts")
        return self


class ListenBeacon(BaseModel):
    """The intervals one play id heard since its last beacon, and what it played through:
    exactly one of `token` (track link), `slug` (pack link) or `ref` (a ref code on a
    public track page), or none for an unattributed public track page."""

    model_config = ConfigDict(extra="forbid")

    token: str | None = Field(default=None, min_length=1, max_length=200)
    slug: str | None = Field(default=None, min_length=1, max_length=200)
    ref: str | None = Field(default=None, min_length=1, max_length=64)
    visitorId: str = Ident  # noqa: N815 - wire names as the other public calls
    sessionId: str = Ident  # noqa: N815
    playId: str = Ident  # noqa: N815
    trackId: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")  # noqa: N815
    intervals: list[ListenedInterval] = Field(min_length=1, max_length=MAX_INTERVALS)

    @model_validator(mode="after")
    def _one_target(self) -> ListenBeacon:
        if sum(v is not None for v in (self.token, self.slug, self.ref)) > 1:
            raise ValueError("at most one of token, slug and ref")
        return self


class ListenBatch(BaseModel):
    """Beacons batched in one request."""

    model_config = ConfigDict(extra="forbid")

    beacons: list[ListenBeacon] = Field(min_length=1, max_length=MAX_BEACONS)


class ListensAccepted(BaseModel):
    accepted: int
