"""Processed-media payloads: the waveform document stored as peaks.json and the rendition /
artwork descriptors the catalog hands to the gateway and the web pages."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ProcessingState = Literal["processing", "ready", "failed"]


class WaveformPeaks(BaseModel):
    """Min/max envelope of the decoded signal over `points` equal slices of its duration.

    Values are full-scale samples (1.0 = 0 dBFS) clipped to [-1, 1], taken over every
    channel, so a quiet track draws a small waveform: the level is information, not noise.
    """

    version: Literal[1] = 1
    points: int
    duration_seconds: float
    min: list[float] = Field(default_factory=list)
    max: list[float] = Field(default_factory=list)


class MediaSource(BaseModel):
    """One playable rendition; `content_type` is what `audio.canPlayType()` is asked."""

    url: str
    content_type: str


class ArtworkSize(BaseModel):
    """One artwork rendition, fitted within a `size`x`size` box (never upscaled)."""

    size: int
    url: str
    content_type: str


class ArtworkVariant(BaseModel):
    """That an artwork size exists, as replicas know it (track snapshots): no URL, since a
    URL is signed when it is served, and never a storage key."""

    size: int
    content_type: str


def card_size(sizes: list[int]) -> int | None:
    """The size link-preview cards want (they ask for 1200 px, and at least 600): 1200 if
    there is one, else the largest there is."""
    if not sizes:
        return None
    if 1200 in sizes:
        return 1200
    return max(sizes)
