"""Signed media URLs for the API responses of catalog (see domain/media_tokens.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from catalog.domain import media_tokens
from catalog.settings import CatalogSettings
from contracts.dto import SignedUrl


def sign_url(
    settings: CatalogSettings,
    subject_id: str,
    asset: media_tokens.Asset,
    disposition: media_tokens.Disposition = "inline",
    content_type: str | None = None,
    link_id: str | None = None,
    size: int | None = None,
) -> SignedUrl:
    """`link_id`: the share link the URL is given through; the gateway serves its bytes
    only while that link is live. `size`: one artwork size instead of the original image."""
    expires_at = int(time.time()) + settings.media_url_ttl_seconds
    token = media_tokens.sign(
        media_tokens.MediaGrant(subject_id, asset, disposition, expires_at, link_id, size),
        settings.media_signing_key.get_secret_value().encode(),
    )
    return SignedUrl(
        url=f"{settings.public_base_url.rstrip('/')}/v1/media/{token}",
        expires_at=datetime.fromtimestamp(expires_at, UTC),
        content_type=content_type,
    )
