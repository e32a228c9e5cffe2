"""A service process that imports its code before it knows where to listen.

Importing a service (Litestar, SQLAlchemy, FastStream, pydantic models) is most of a cold
start. `make run` therefore starts these processes first, so the four imports overlap with
starting Postgres, Kafka and S3 and migrating; each process then waits for one line on
stdin, its environment as JSON, and serves exactly as `uvicorn <service>.app:create_app
--factory` would.

    python -m devstack.preload <service>   # then: {"port": 8000, "env": {…}} + newline
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from devstack import processes

# processes that are not `<service>.app`: the module whose `create_app` they serve
APPS = {"media-worker": "catalog.worker"}


def app_module(service: str) -> str:
    return APPS.get(service, f"{service}.app")


def spawn(service: str, log_path: Path) -> subprocess.Popen[bytes]:
    """Start importing `service` now; `release` tells it where to serve."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    return processes.spawn(
        [sys.executable, "-m", "devstack.preload", service], log_path=log_path, stdin=True
    )


def release(proc: subprocess.Popen[bytes], port: int, env: Mapping[str, str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps({"port": port, "env": dict(env)}).encode() + b"\n")
    proc.stdin.close()


def main(service: str) -> None:
    importlib.import_module(app_module(service))
    line = sys.stdin.readline()
    if not line:  # whoever started us gave up before the infrastructure was ready
        return
    orders = json.loads(line)
    os.environ.update(orders["env"])

    import uvicorn

    uvicorn.run(
        f"{app_module(service)}:create_app",
        factory=True,
        port=orders["port"],
        host="127.0.0.1",
        access_log=False,
        # the gateway reads forwarded headers itself, from the proxies it trusts (clients.py)
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main(sys.argv[1])
