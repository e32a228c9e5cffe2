"""Short free text that visitors send (visitor and session ids, sources, channels), cleaned
one way wherever it is read: control characters dropped (Postgres text cannot hold NUL),
surrounding blanks stripped, cut to 120 characters."""

from __future__ import annotations

import re

SHORT_TEXT_CHARS = 120

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(value: str) -> str:
    return _CONTROL.sub("", value)


def trim(value: str | None, limit: int = SHORT_TEXT_CHARS) -> str | None:
    """The cleaned text, or None when nothing is left of it."""
    if value is None:
        return None
    return printable(value).strip()[:limit] or None
