"""Settings every service reads from the environment (prefix `ENCORE_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Common configuration; each service subclasses it and adds its own fields."""

    model_config = SettingsConfigDict(env_prefix="ENCORE_", extra="ignore")

    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
        description="Postgres URL; the service only touches its own schema.",
    )
    database_pool_size: int = Field(default=10, ge=1)
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers.")
    kafka_idempotent_producer: bool = Field(
        default=False,
        description="Turn on for real Kafka; the dev broker (tansu) rejects idempotent producers.",
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=100,
        ge=1,
        description="How long a fetch waits for data. The dev broker does not wake a waiting fetch "
        "when data arrives, so this bounds per-hop event latency; lower costs idle CPU.",
    )
    kafka_session_timeout_ms: int = Field(default=6000, ge=1000)
    kafka_heartbeat_interval_ms: int = Field(default=1000, ge=100)
    internal_token: SecretStr = Field(
        default=SecretStr("dev-internal-token"),
        description="Shared credential the gateway sends to internal APIs.",
    )
    log_level: str = "INFO"
