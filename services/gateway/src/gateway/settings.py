"""Gateway configuration, from `ENCORE_*` environment variables."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import NoDecode

from servicekit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    optional_secrets: ClassVar[tuple[str, ...]] = ("admin_api_key",)  # unset: no admin API

    catalog_url: str = Field(default="http://127.0.0.1:8101", description="Catalog internal API.")
    sharing_url: str = Field(default="http://127.0.0.1:8102", description="Sharing internal API.")
    analytics_url: str = Field(
        default="http://127.0.0.1:8103", description="Analytics internal API."
    )
    admin_api_key: SecretStr | None = Field(
        default=None, description="Operator key allowed to create users over the API."
    )
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1, description="Largest upload.")
    upstream_timeout_seconds: float = Field(default=10.0, gt=0)
    public_cache_ttl_seconds: float = Field(
        default=30.0, ge=0, description="Upper bound on staleness of cached public catalog reads."
    )
    track_link_cache_ttl_seconds: float = Field(
        default=10.0,
        ge=0,
        description="Upper bound on how long a revoked track link can still open when "
        "invalidation events stop arriving (0 turns the resolved-link cache off).",
    )
    track_link_stale_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long past its TTL a cached track link is still served while "
        "sharing cannot be reached at all.",
    )
    visit_drain_seconds: float = Field(
        default=3.0,
        ge=0,
        description="How long a stopping gateway keeps trying to hand its queued track-link "
        "views to sharing.",
    )
    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = Field(
        default=(),
        description="CIDRs of the proxies in front of the gateway (comma-separated): only "
        "their X-Forwarded-For and X-Request-ID are believed (gateway/clients.py).",
    )
    failed_lookup_limit: int = Field(
        default=30, ge=1, description="Failed link lookups per client per window."
    )
    access_code_attempt_limit: int = Field(
        default=10, ge=1, description="Wrong access codes per client per window."
    )
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_cidrs(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value
