"""What a page template reads: built from the public payloads, tolerant of the media
fields (renditions, peaks, processing state) that may not be there yet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


def _field(model: BaseModel, name: str, default: Any = None) -> Any:
    """A payload field that a newer contract adds; absent on older payloads."""
    return getattr(model, name, default)


@dataclass(frozen=True)
class TrackCard:
    id: str
    title: str
    artist: str
    description: str | None
    duration_seconds: float | None
    artwork_url: str | None  # the 1200 px size if there is one: what cards want
    artwork_thumb: str | None  # 300 px, for the page itself
    peaks_url: str | None
    processing_state: str  # processing | ready | failed
    processing_reason: str | None
    audio_url: str | None = None  # our route that answers the signed playback URL
    download_url: str | None = None

    @property
    def duration_label(self) -> str:
        if self.duration_seconds is None:
            return ""
        total = int(self.duration_seconds)
        return f"{total // 60}:{total % 60:02d}"

    @property
    def playable(self) -> bool:
        return self.processing_state == "ready" and self.audio_url is not None


def artwork(track: BaseModel, wanted: int) -> str | None:
    sizes = _field(track, "artwork_sizes", []) or []
    for size in sizes:
        if getattr(size, "size", None) == wanted:
            return str(size.url)
    url = _field(track, "artwork_url")
    return str(url) if url else None


def card(
    track: BaseModel,
    audio_url: str | None,
    download_url: str | None = None,
    peaks_route: str | None = None,
) -> TrackCard:
    """`peaks_route`: a link page's own same-origin path to the peaks, used when the
    payload has peaks (its `peaks_url` names the same route under the public base URL)."""
    artist = _field(track, "artist")
    peaks_url = _field(track, "peaks_url")
    return TrackCard(
        id=str(_field(track, "id")),
        title=str(_field(track, "title")),
        artist=str(getattr(artist, "display_name", None) or getattr(artist, "handle", "") or ""),
        description=_field(track, "description"),
        duration_seconds=_field(track, "duration_seconds"),
        artwork_url=artwork(track, 1200),
        artwork_thumb=artwork(track, 300),
        peaks_url=peaks_route if peaks_url and peaks_route else peaks_url,
        processing_state=str(_field(track, "processing_state", "ready") or "ready"),
        processing_reason=_field(track, "processing_reason"),
        audio_url=audio_url,
        download_url=download_url,
    )


@dataclass(frozen=True)
class Page:
    """Everything a template needs beyond its own content."""

    title: str
    canonical: str
    description: str = ""
    image: str | None = None
    noindex: bool = True
    oembed: str | None = None
    embed: bool = False
    beacon: dict[str, str] = field(default_factory=dict)  # token / slug / ref for listens
