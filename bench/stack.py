"""One real stack for a benchmark: the ladder's infrastructure and the four services as
processes (the same `Suite` as `make run` and the tests), plus a signed-in artist."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devstack import processes
from devstack.infra import Infrastructure, start_infrastructure
from devstack.suite import Suite

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT / "tests" / "fixtures" / "media" / "tone-3s.mp3"
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@dataclass
class Stack:
    infra: Infrastructure
    suite: Suite
    api: httpx.Client
    headers: dict[str, str]
    org: str

    def upload_track(self, title: str = "t") -> str:
        with MEDIA.open("rb") as audio:
            response = self.api.post(
                f"/v1/music/{self.org}/tracks",
                headers=self.headers,
                files={"file": audio},
                data={"title": title},
            )
        response.raise_for_status()
        return str(response.json()["id"])

    def share(self, track_id: str) -> dict[str, Any]:
        response = self.api.post(
            f"/v1/music/{self.org}/tracks/{track_id}/share", headers=self.headers
        )
        response.raise_for_status()
        return dict(response.json())


@contextmanager
def running_stack(data_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """Start everything on 127.0.0.1, create an artist, and stop it all on the way out."""
    infra = start_infrastructure(data_dir, persistent=False)
    suite = Suite(
        infra,
        data_dir / "logs",
        processes.free_port(),
        extra_env={
            "ENCORE_LOG_LEVEL": "WARNING",
            # one load generator on one address is not a script inflating a link: every
            # view and beacon it sends is to be counted (gateway/ratelimit.py, engagement)
            "ENCORE_ANONYMOUS_ENGAGEMENT_LIMIT": str(10**9),
            **(extra_env or {}),
        },
    )
    try:
        suite.prepare()
        suite.start_all()
        # a person's browser: httpx's own User-Agent is a script's, whose opens the gateway
        # records as previews, not views (SPEC §9)
        with httpx.Client(
            base_url=suite.gateway_url, timeout=30, headers={"user-agent": BROWSER}
        ) as api:
            response = api.post(
                "/v1/users", json={"handle": "bench"}, headers={"X-API-Key": suite.admin_api_key}
            )
            response.raise_for_status()
            user = response.json()
            yield Stack(infra, suite, api, {"X-API-Key": user["api_key"]}, user["organization_id"])
    finally:
        suite.stop_all()
        infra.close()
