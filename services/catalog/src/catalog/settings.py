"""Catalog configuration, from `ENCORE_*` environment variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr

from servicekit.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    required_secrets: ClassVar[tuple[str, ...]] = (
        *ServiceSettings.required_secrets,
        "media_signing_key",
        "s3_access_key",
        "s3_secret_key",
    )

    s3_endpoint: str = Field(default="http://127.0.0.1:9000", description="S3/MinIO endpoint URL.")
    s3_access_key: str = "minioadmin"
    s3_secret_key: SecretStr = SecretStr("minioadmin")
    s3_region: str = "us-east-1"
    s3_bucket: str = Field(default="encore-media", description="Bucket for audio and artwork.")
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1, description="Largest audio upload."
    )
    media_url_ttl_seconds: int = Field(default=900, ge=10, le=86_400)
    media_signing_key: SecretStr = Field(
        default=SecretStr("dev-media-signing-key"),
        description="HMAC key for signed playback/download URLs.",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Public gateway URL used in signed URLs."
    )
    max_image_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Largest artwork or cover."
    )
    storage_sweep_interval_seconds: float = Field(default=30.0, gt=0)
    # the media worker (catalog.worker, docs/media-pipeline.md)
    media_max_duration_seconds: float = Field(default=7200.0, gt=0)
    media_max_attempts: int = Field(
        default=3, ge=1, description="Attempts at one upload before it is dead-lettered."
    )
    media_retry_wait_seconds: float = Field(default=1.0, ge=0)
    media_stuck_after_seconds: float = Field(
        default=600.0, gt=0, description="A track processing this long is enqueued again."
    )
    media_stuck_sweep_interval_seconds: float = Field(default=30.0, gt=0)
