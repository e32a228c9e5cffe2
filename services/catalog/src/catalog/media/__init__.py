"""Pure media processing over local files: no S3, no database, no Kafka (the worker that
uploads the results lives elsewhere)."""

from catalog.media.artwork import artwork_sizes
from catalog.media.audio import process_audio
from catalog.media.types import ArtworkImage, AudioResult, MediaLimits, MediaRejected, Rendition

__all__ = [
    "ArtworkImage",
    "AudioResult",
    "MediaLimits",
    "MediaRejected",
    "Rendition",
    "artwork_sizes",
    "process_audio",
]
