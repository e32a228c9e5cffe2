"""Analytics configuration, from `ENCORE_*` environment variables."""

from __future__ import annotations

from pydantic import Field

from servicekit.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    consumer_group: str = Field(default="analytics", description="Kafka consumer group id.")
    consumer_batch_size: int = Field(default=1000, ge=1, le=5000)
    consumer_batch_timeout_ms: int = Field(default=50, ge=1)
