"""Prefixed random identifiers, so an id says what it names and cannot be guessed."""

from __future__ import annotations

import random
import secrets
import time
import uuid

USER = "usr_"
ORGANIZATION = "org_"
TRACK = "mtrack_"
ALBUM = "alb_"
PACK = "mpack_"
SPLIT_SHEET = "split_"
SHARE_LINK = "mslink_"
API_KEY = "sk_"
SHARE_TOKEN = "shr_"  # noqa: S105 - a prefix, not a secret
API_KEY_RECORD = "key_"
INVITATION = "inv_"


def _random_id(prefix: str, hex_chars: int = 12) -> str:
    return prefix + secrets.token_hex(hex_chars // 2)


def new_user_id() -> str:
    return _random_id(USER)


def new_organization_id() -> str:
    return _random_id(ORGANIZATION)


def new_track_id() -> str:
    return _random_id(TRACK)


def new_album_id() -> str:
    return _random_id(ALBUM)


def new_pack_id() -> str:
    return _random_id(PACK)


def new_split_sheet_id() -> str:
    return _random_id(SPLIT_SHEET)


def new_share_link_id() -> str:
    return _random_id(SHARE_LINK)


def new_api_key_record_id() -> str:
    return _random_id(API_KEY_RECORD)


def new_invitation_id() -> str:
    return _random_id(INVITATION)


def new_api_key() -> str:
    """A raw API key: 256 bits of entropy, shown once, stored only as a hash."""
    return API_KEY + secrets.token_urlsafe(32)


def new_share_token() -> str:
    """A raw share token, `shr_` + 32 hex characters (128 bits)."""
    return SHARE_TOKEN + secrets.token_hex(16)


def new_ref_code() -> str:
    """An 8-character url-safe attribution code (48 bits from the OS CSPRNG)."""
    return secrets.token_urlsafe(6)


def new_event_id() -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, then randomness (RFC 9562).

    Time-ordered ids land at the right edge of the consumers' unique indexes instead of at
    random pages, which keeps claiming event ids cheap at high ingest rates. Like trace ids
    they must be unique, not secret, so the bits come from `random` (seeded from the OS),
    not a system call per event."""
    millis = time.time_ns() // 1_000_000
    rand = random.getrandbits(80)
    value = (
        (millis & (2**48 - 1)) << 80
        | (0x7 << 76)
        | ((rand >> 68) & 0xFFF) << 64
        | (0b10 << 62)
        | (rand & (2**62 - 1))
    )
    return uuid.UUID(int=value)
