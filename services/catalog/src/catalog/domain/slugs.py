"""Album slugs: readable, url-safe, derived from the title."""

from __future__ import annotations

import re
import unicodedata

from contracts.api.catalog import MAX_SLUG, SLUG_PATTERN

__all__ = ["MAX_SLUG", "is_valid_slug", "slugify"]


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:MAX_SLUG].strip("-") or "untitled"


def is_valid_slug(slug: str) -> bool:
    return bool(re.fullmatch(SLUG_PATTERN, slug)) and len(slug) <= MAX_SLUG
