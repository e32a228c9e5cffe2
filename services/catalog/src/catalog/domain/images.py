"""Artwork and covers: decoded and checked as real images, never trusted by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

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


def inspect_image(file: BinaryIO) -> ImageInfo:
    """Reads the file where it lies (blocking: call it in a worker thread). Decoding the
    pixels takes memory in proportion to them, bounded by `MAX_PIXELS`."""
    try:
        file.seek(0)
        with Image.open(file) as probe:
            image_format = probe.format or ""
            width, height = probe.size
            if image_format not in FORMATS:
                raise NotAnImage(f"{image_format or 'unknown'} images are not supported")
            if width * height > MAX_PIXELS:
                raise NotAnImage("image has too many pixels")
            probe.verify()
        file.seek(0)
        with Image.open(file) as full:
            full.load()  # verify() does not decode pixel data; a truncated file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise NotAnImage(f"not a readable image: {exc}") from exc
    content_type, extension = FORMATS[image_format]
    return ImageInfo(content_type, extension, width, height)
