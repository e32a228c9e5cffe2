"""Artwork renditions: WebP fitted within square boxes, metadata stripped, bombs refused."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from catalog.media.types import ArtworkImage, MediaRejected

# 50 megapixels (e.g. 7000x7000) is far beyond any cover; decoding it costs ~200 MB RGBA.
MAX_PIXELS = 50_000_000
WEBP_QUALITY = 82


def artwork_sizes(image: bytes, sizes: tuple[int, ...] = (64, 300, 1200)) -> list[ArtworkImage]:
    """One WebP per size, fitted within sizexsize without cropping; an original smaller
    than the box stays at its own size (the size key is still returned)."""
    original = _load(image)
    out: list[ArtworkImage] = []
    for size in sizes:
        fitted = original.copy()
        fitted.thumbnail((size, size), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        fitted.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=4)
        out.append(ArtworkImage(size=size, content_type="image/webp", data=buffer.getvalue()))
    return out


def _load(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise MediaRejected(
                        f"The artwork is {width}x{height} pixels; at most "
                        f"{MAX_PIXELS // 1_000_000} megapixels are accepted."
                    )
                probe.load()
                upright = ImageOps.exif_transpose(probe)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaRejected("The artwork is too large to decode safely.") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise MediaRejected("The artwork is not an image we can read, or it is damaged.") from exc
    mode = (
        "RGBA" if upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info else "RGB"
    )
    # A fresh image from the pixels alone: EXIF, XMP, ICC and comments stay behind.
    clean = Image.new(mode, upright.size)
    clean.paste(upright.convert(mode))
    return clean
