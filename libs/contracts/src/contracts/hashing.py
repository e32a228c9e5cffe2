"""One-way hashing of secrets that are shown once and drawn at random: API keys, share
tokens and ref codes.

Only these digests are stored, so a database leak does not hand out working links or keys.
The secrets carry at least 48 bits of randomness, so a plain SHA-256 is the right tool: it is
what lookups index on, and a slow password hash would only make every link open slower.
Access codes are the exception (people choose them, 4 characters may do): sharing stores
them as salted argon2id (`sharing.domain.access_codes`).
"""

from __future__ import annotations

import hashlib

PREVIEW_CHARS = 4


def hash_secret(raw: str) -> str:
    """Hex SHA-256 of a raw secret, the form stored and indexed."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def token_preview(raw: str) -> str:
    """The last few characters of a secret, safe to show in lists ("…3b5c")."""
    return "…" + raw[-PREVIEW_CHARS:]
