"""Sharing configuration, from `ENCORE_*` environment variables."""

from __future__ import annotations

from pydantic import Field

from servicekit.settings import ServiceSettings


class SharingSettings(ServiceSettings):
    catalog_url: str = Field(default="http://127.0.0.1:8101", description="Catalog internal API.")
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public gateway URL used in share URLs."
    )
    max_link_days: int = Field(default=90, ge=1, description="Longest expiry a link may have.")
