"""What a track's `media` column (the worker's output set) holds: its objects, its
renditions, its peaks. Read from a row, no I/O."""

from __future__ import annotations

from typing import Any


def media_keys(media: dict[str, Any] | None) -> list[str]:
    """Every object a worker's output set (the `media` column) references."""
    if not media:
        return []
    keys = [r["key"] for r in media.get("renditions", [])]
    keys += [a["key"] for a in media.get("artwork", [])]
    if media.get("peaks_key"):
        keys.append(media["peaks_key"])
    return keys


def rendition(row: Any, name: str) -> dict[str, Any] | None:
    """The rendition `name` ("aac" | "opus") of a ready track, if it has one."""
    if row.processing_state != "ready" or not row.media:
        return None
    for item in row.media.get("renditions", []):
        if item["name"] == name:
            return dict(item)
    return None


def peaks_key(row: Any) -> str | None:
    """The waveform's object of a ready track, if it has one."""
    if row.processing_state != "ready" or not row.media:
        return None
    key = row.media.get("peaks_key")
    return str(key) if key else None
