"""Signed, short-lived media URLs that name a track, never a bucket or an object key.

A token is `base64url(json).base64url(hmac)`; the catalog checks signature and expiry
itself (the dev S3 server does not enforce presigned-URL expiry, and a presigned URL would
reveal the bucket and key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Literal

Disposition = Literal["inline", "attachment"]
Asset = Literal["audio", "artwork", "cover"]


class InvalidMediaToken(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class MediaGrant:
    subject_id: str  # a track id (audio, artwork) or an album id (cover)
    asset: Asset
    disposition: Disposition
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(grant: MediaGrant, key: bytes) -> str:
    body = json.dumps(
        {"t": grant.subject_id, "a": grant.asset, "d": grant.disposition, "e": grant.expires_at},
        separators=(",", ":"),
    ).encode()
    mac = hmac.new(key, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def verify(token: str, key: bytes, now: float | None = None) -> MediaGrant:
    try:
        body_part, mac_part = token.split(".", 1)
        body = _unb64(body_part)
        given = _unb64(mac_part)
    except (ValueError, TypeError) as exc:
        raise InvalidMediaToken("malformed token") from exc
    if not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), given):
        raise InvalidMediaToken("bad signature")
    try:
        claims = json.loads(body)
        grant = MediaGrant(
            subject_id=str(claims["t"]),
            asset=claims["a"],
            disposition=claims["d"],
            expires_at=int(claims["e"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidMediaToken("malformed claims") from exc
    if grant.expires_at < (now if now is not None else time.time()):
        raise InvalidMediaToken("expired")
    return grant
