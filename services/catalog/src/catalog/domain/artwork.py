"""Artwork size descriptors (`size`, `key`, `content_type`) as rows record them: lookups
without I/O, shared by the views, the media route and the removal schedule."""

from __future__ import annotations

from typing import Any

from contracts.media import ArtworkVariant

SIZES = (64, 300, 1200)


def keys(sizes: list[dict[str, Any]] | None) -> list[str]:
    return [item["key"] for item in sizes or []]


def find(sizes: list[dict[str, Any]] | None, size: int) -> dict[str, Any] | None:
    for item in sizes or []:
        if item["size"] == size:
            return item
    return None


def ordered(sizes: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Smallest first, the order every payload lists sizes in."""
    return sorted(sizes or [], key=lambda i: int(i["size"]))


def variants(sizes: list[dict[str, Any]] | None) -> list[ArtworkVariant]:
    """What a snapshot says of the sizes, smallest first: size and type, no key, no URL."""
    return [
        ArtworkVariant(size=int(item["size"]), content_type=item["content_type"])
        for item in ordered(sizes)
    ]
