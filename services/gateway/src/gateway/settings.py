"""Gateway configuration, from `ENCORE_*` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr

from servicekit.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
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
