"""Secrets fail closed: outside `ENCORE_ENV=dev` no service starts on a default secret.

No running stack needed: the settings classes are built as each service builds them at
start-up, and one service process is started for real to see it refuse.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from analytics.settings import AnalyticsSettings
from catalog.settings import CatalogSettings
from devstack.processes import free_port
from gateway.settings import GatewaySettings
from sharing.settings import SharingSettings

# Every secret a service needs, and what it refuses to start without.
NEEDED: dict[type[BaseSettings], list[str]] = {
    CatalogSettings: [
        "ENCORE_INTERNAL_TOKEN",
        "ENCORE_MEDIA_SIGNING_KEY",
        "ENCORE_S3_ACCESS_KEY",
        "ENCORE_S3_SECRET_KEY",
    ],
    SharingSettings: ["ENCORE_INTERNAL_TOKEN"],
    AnalyticsSettings: ["ENCORE_INTERNAL_TOKEN"],
    GatewaySettings: ["ENCORE_INTERNAL_TOKEN"],
}
SECRET_VARIABLES = {v for names in NEEDED.values() for v in names} | {"ENCORE_ADMIN_API_KEY"}


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment as a cluster's would be before its Secrets are filled in."""
    for variable in SECRET_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("ENCORE_ENV", "production")
    return monkeypatch


def refusal(cls: type[BaseSettings]) -> str:
    with pytest.raises(ValidationError) as raised:
        cls()
    return str(raised.value)


@pytest.mark.parametrize("cls", list(NEEDED), ids=lambda c: c.__name__)
def test_outside_dev_a_service_without_its_secrets_refuses_naming_them(
    production: pytest.MonkeyPatch, cls: type[BaseSettings]
) -> None:
    message = refusal(cls)
    assert "ENCORE_ENV=production" in message
    for variable in NEEDED[cls]:
        assert variable in message, message
    for other in SECRET_VARIABLES - set(NEEDED[cls]):
        assert other not in message, f"{cls.__name__} does not use {other}: {message}"


@pytest.mark.parametrize("cls", list(NEEDED), ids=lambda c: c.__name__)
def test_the_dev_stack_keeps_its_defaults(
    production: pytest.MonkeyPatch, cls: type[BaseSettings]
) -> None:
    production.setenv("ENCORE_ENV", "dev")
    assert cls().model_dump()["env"] == "dev"


@pytest.mark.parametrize("cls", list(NEEDED), ids=lambda c: c.__name__)
def test_real_secrets_start_outside_dev(
    production: pytest.MonkeyPatch, cls: type[BaseSettings]
) -> None:
    for variable in NEEDED[cls]:
        production.setenv(variable, f"real-{variable.lower()}-7f3a9c")
    assert cls().model_dump()["env"] == "production"


@pytest.mark.parametrize(
    "value", ["", "   ", "dev-media-signing-key", "REPLACE_ME_media_signing_key"]
)
def test_empty_default_and_placeholder_values_are_refused(
    production: pytest.MonkeyPatch, value: str
) -> None:
    for variable in NEEDED[CatalogSettings]:
        production.setenv(variable, f"real-{variable.lower()}-7f3a9c")
    production.setenv("ENCORE_MEDIA_SIGNING_KEY", value)
    message = refusal(CatalogSettings)
    assert "ENCORE_MEDIA_SIGNING_KEY" in message
    assert "ENCORE_INTERNAL_TOKEN" not in message
    assert "real-encore_internal_token" not in message, "the refusal must not print secrets"


def test_the_admin_key_may_be_unset_but_not_empty_or_a_placeholder(
    production: pytest.MonkeyPatch,
) -> None:
    production.setenv("ENCORE_INTERNAL_TOKEN", "real-internal-token-7f3a9c")
    assert GatewaySettings().admin_api_key is None  # no admin API: closed, not open
    for value in ("", "REPLACE_ME_admin_api_key"):
        production.setenv("ENCORE_ADMIN_API_KEY", value)
        assert "ENCORE_ADMIN_API_KEY" in refusal(GatewaySettings)
    production.setenv("ENCORE_ADMIN_API_KEY", "sk_admin_real_7f3a9c")
    assert GatewaySettings().admin_api_key is not None


def test_a_service_process_without_secrets_exits_naming_them() -> None:
    """As deployed: uvicorn with the app factory, no Secret mounted, production default."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES | {"ENCORE_ENV"}}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "catalog.app:create_app",
            "--factory",
            "--port",
            str(free_port()),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    for variable in NEEDED[CatalogSettings]:
        assert variable in result.stderr, result.stderr
