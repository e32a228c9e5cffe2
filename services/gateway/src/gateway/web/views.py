"""What a page template reads: built from the public payloads, tolerant of the media
fields (renditions, peaks, processing state) that may not be there yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from contracts.media import card_size


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
    artwork_url: str | None  # absolute, the size cards want (contracts.media.card_size)
    artwork_thumb: str | None  # 300 px if there is one, for the page itself
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


def thumb_size(sizes: list[int]) -> int | None:
    """The page's own 120 px image, sharp on a 2x screen."""
    return 300 if 300 in sizes else card_size(sizes)


def artwork(
    track: BaseModel, pick: Callable[[list[int]], int | None], route: str | None, base: str
) -> str | None:
    """The URL of the artwork size `pick` chooses: under a link's own artwork route
    (`route`, a same-origin path; `base` makes it absolute, as a card's og:image must
    be) when the page is a link's, else the payload's own URL of that size."""
    sizes = {int(s.size): s for s in _field(track, "artwork_sizes", []) or []}
    chosen = pick(list(sizes))
    if chosen is None:
        url = _field(track, "artwork_url")
        return str(url) if url else None
    if route is not None:
        return f"{base}{route}/artwork/{chosen}"
    return str(sizes[chosen].url)


def card(
    track: BaseModel,
    audio_url: str | None,
    download_url: str | None = None,
    media_route: str | None = None,
    base_url: str = "",
) -> TrackCard:
    """`media_route`: a link page's own same-origin path to the track's media (the
    gateway's `/a/t/{token}` or `/a/p/{slug}/{track}`), used for the peaks and artwork the
    payload says exist (its URLs name the same routes under the public base URL)."""
    artist = _field(track, "artist")
    peaks_url = _field(track, "peaks_url")
    return TrackCard(
        id=str(_field(track, "id")),
        title=str(_field(track, "title")),
        artist=str(getattr(artist, "display_name", None) or getattr(artist, "handle", "") or ""),
        description=_field(track, "description"),
        duration_seconds=_field(track, "duration_seconds"),
        artwork_url=artwork(track, card_size, media_route, base_url),
        artwork_thumb=artwork(track, thumb_size, media_route, ""),
        peaks_url=f"{media_route}/peaks" if peaks_url and media_route else peaks_url,
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
