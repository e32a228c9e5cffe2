"""The shapes media processing hands back (fixed by the media contract)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from contracts.media import WaveformPeaks


@dataclass(frozen=True)
class MediaLimits:
    """Caps on what one upload may cost us to decode, checked while decoding."""

    max_duration_seconds: float = 7200.0
    max_decoded_bytes: int = 7200 * 48000 * 2 * 4


@dataclass(frozen=True)
class Rendition:
    path: Path
    name: str
    content_type: str
    codecs: str
    bitrate: int


@dataclass(frozen=True)
class AudioResult:
    duration_seconds: float
    sample_rate: int
    channels: int
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    peaks: WaveformPeaks
    renditions: list[Rendition]


@dataclass(frozen=True)
class ArtworkImage:
    size: int
    content_type: Literal["image/webp", "image/jpeg"]
    data: bytes


class MediaRejected(Exception):
    """The input cannot become a playable track; `reason` is a sentence for the uploader."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
