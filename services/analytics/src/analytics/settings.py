"""Analytics configuration, from `ENCORE_*` environment variables."""

from __future__ import annotations

from pydantic import Field

from servicekit.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    consumer_group: str = Field(default="analytics", description="Kafka consumer group id.")
    consumer_batch_size: int = Field(
        default=5000, ge=1, le=10000, description="Most records applied in one transaction."
    )
    consumer_batch_timeout_ms: int = Field(default=50, ge=1)
    play_dedupe_window_seconds: float | None = Field(
        default=None,
        ge=0,
        description="A listener's plays of a track within this window count once; "
        "unset: the track's duration clamped to 30 s - 1 h.",
    )
