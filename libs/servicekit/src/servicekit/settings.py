"""Settings every service reads from the environment (prefix `ENCORE_`)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# What the deploy/ Secret template holds until an operator replaces it.
PLACEHOLDER_PREFIX = "REPLACE_ME"


class ServiceSettings(BaseSettings):
    """Common configuration; each service subclasses it and adds its own fields.

    The secrets a service needs are named in `required_secrets` (and optional ones, off when
    unset, in `optional_secrets`). Their defaults work on a laptop and nowhere else, so
    outside `ENCORE_ENV=dev` a service refuses to start while one of them is unset, empty,
    its default or a deploy/ placeholder, and says which variables to set.
    """

    # hide_input_in_errors: a refusal must not print the secrets it refuses
    model_config = SettingsConfigDict(
        env_prefix="ENCORE_", extra="ignore", hide_input_in_errors=True
    )

    required_secrets: ClassVar[tuple[str, ...]] = ("internal_token",)
    optional_secrets: ClassVar[tuple[str, ...]] = ()

    env: Literal["dev", "production"] = Field(
        default="production",
        description="`dev` (make run, the tests, compose) accepts the built-in dev secrets; "
        "anything else refuses to start without real ones.",
    )
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
    ops_port: int = Field(
        default=8001,
        ge=1,
        le=65535,
        description="Port of /metrics and /health/ready, apart from the API port (servicekit.ops).",
    )
    ops_host: str = Field(default="0.0.0.0", description="Address the ops port listens on.")
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> Self:
        if self.env == "dev":
            return self
        unsafe = [
            f"ENCORE_{name.upper()}"
            for name in self.required_secrets
            if not self._is_real_secret(name, getattr(self, name))
        ]
        unsafe += [
            f"ENCORE_{name.upper()}"
            for name in self.optional_secrets
            if getattr(self, name) is not None
            and not self._is_real_secret(name, getattr(self, name))
        ]
        if unsafe:
            raise ValueError(
                f"refusing to start with ENCORE_ENV={self.env}: {', '.join(unsafe)} must be "
                "real secrets (found unset, empty, a built-in default or a REPLACE_ME "
                "placeholder); only ENCORE_ENV=dev accepts the dev defaults"
            )
        return self

    @classmethod
    def _is_real_secret(cls, name: str, value: Any) -> bool:
        text = _plain(value)
        default = _plain(cls.model_fields[name].default)
        return bool(text.strip()) and text != default and not text.startswith(PLACEHOLDER_PREFIX)


def _plain(value: Any) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return "" if value is None else str(value)
