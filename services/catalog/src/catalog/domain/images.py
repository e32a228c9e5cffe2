"""Artwork and covers: decoded and checked as real images, never trusted by name."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
MAX_PIXELS = 40_000_000


class NotAnImage(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ImageInfo:
    content_type: str
    extension: str
    width: int
    height: int


def inspect_image(data: bytes) -> ImageInfo:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format or ""
            width, height = probe.size
            if image_format not in FORMATS:
                raise NotAnImage(f"{image_format or 'unknown'} images are not supported")
            if width * height > MAX_PIXELS:
                raise NotAnImage("image has too many pixels")
            probe.verify()
        with Image.open(io.BytesIO(data)) as full:
            full.load()  # verify() does not decode pixel data; a truncated file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise NotAnImage(f"not a readable image: {exc}") from exc
    content_type, extension = FORMATS[image_format]
    return ImageInfo(content_type, extension, width, height)
