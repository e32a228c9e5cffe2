"""Signed, short-lived media URLs that name a track, never a bucket or an object key.

A token is `base64url(json).base64url(hmac)`; the catalog checks signature and expiry
itself (the dev S3 server does not enforce presigned-URL expiry, and a presigned URL would
reveal the bucket and key).

Format version 2 (claim `v`) adds `l`, the share link a URL was issued through: the
gateway serves the bytes of such a URL only while that link is live (gateway/media_access.py),
so revoking a link or hiding its track stops its URLs at once, not when they expire. URLs
given to owners carry no `l`. Tokens without `v: 2` (issued before links were bound) are
refused: any of them may have come through a link, and none lives more than the URL TTL.
Claim `s` (optional) names one size of an `artwork`/`cover` image (catalog/service/artwork.py).
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
# "audio" is the uploaded original (downloads only); "aac"/"opus" the streaming renditions
# and "peaks" the waveform (SPEC §7): the asset is signed, so a playback URL cannot be
# turned into one for the original.
Asset = Literal["audio", "aac", "opus", "peaks", "artwork", "cover"]
VERSION = 2


class InvalidMediaToken(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class MediaGrant:
    subject_id: str  # a track id (audio, artwork) or an album id (cover)
    asset: Asset
    disposition: Disposition
    expires_at: int
    link_id: str | None = None  # the share link it was issued through; None for owners
    size: int | None = None  # artwork/cover: one of its sizes (claim `s`); None = the original


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(grant: MediaGrant, key: bytes) -> str:
    claims: dict[str, object] = {
        "v": VERSION,
        "t": grant.subject_id,
        "a": grant.asset,
        "d": grant.disposition,
        "e": grant.expires_at,
    }
    if grant.link_id is not None:
        claims["l"] = grant.link_id
    if grant.size is not None:
        claims["s"] = grant.size
    body = json.dumps(claims, separators=(",", ":")).encode()
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
        version = claims.get("v")
        link_id = claims.get("l")
        size = claims.get("s")
        grant = MediaGrant(
            subject_id=str(claims["t"]),
            asset=claims["a"],
            disposition=claims["d"],
            expires_at=int(claims["e"]),
            link_id=None if link_id is None else str(link_id),
            size=None if size is None else int(size),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidMediaToken("malformed claims") from exc
    if version != VERSION:
        raise InvalidMediaToken("unsupported token version")
    if grant.expires_at < (now if now is not None else time.time()):
        raise InvalidMediaToken("expired")
    return grant
