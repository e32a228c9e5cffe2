"""Runs the four services as real processes on a given infrastructure.

The same code starts the suite for `make run` and for the end-to-end tests, so the tests
exercise what a developer runs.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from contracts.topics import ALL_TOPICS_WITH_DLQ
from devstack import preload, processes
from devstack.infra import Infrastructure

SERVICES = ("catalog", "sharing", "analytics", "gateway")
# processes without an API of their own, started after the services (devstack.preload.APPS)
WORKERS = ("media-worker",)


@dataclass
class Suite:
    infra: Infrastructure
    log_dir: Path
    gateway_port: int
    internal_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    admin_api_key: str = field(default_factory=lambda: "sk_admin_" + secrets.token_urlsafe(24))
    media_signing_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    extra_env: dict[str, str] = field(default_factory=dict)
    # per service, on top of `env()`: e.g. its own ENCORE_DATABASE_URL
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    # each process's ops port: /metrics and /health/ready (servicekit.ops)
    ops_ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    service_of: dict[str, str] = field(default_factory=dict, repr=False)  # name -> service

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def ops_url(self, name: str) -> str:
        """Where `name` (a service or a replica started with a name) serves its metrics and
        readiness: never on its API port."""
        return f"http://127.0.0.1:{self.ops_ports[name]}"

    def env(self) -> dict[str, str]:
        for service in SERVICES:
            self.ports.setdefault(
                service, self.gateway_port if service == "gateway" else processes.free_port()
            )
        return {
            **self.infra.env(),
            # a dev stack: the services accept dev defaults for any secret not given here
            "ENCORE_ENV": "dev",
            "ENCORE_INTERNAL_TOKEN": self.internal_token,
            "ENCORE_ADMIN_API_KEY": self.admin_api_key,
            "ENCORE_MEDIA_SIGNING_KEY": self.media_signing_key,
            "ENCORE_CATALOG_URL": self.url("catalog"),
            "ENCORE_SHARING_URL": self.url("sharing"),
            "ENCORE_ANALYTICS_URL": self.url("analytics"),
            "ENCORE_PUBLIC_BASE_URL": self.gateway_url,
            **self.extra_env,
        }

    def database_url(self, service: str) -> str:
        return self.service_env.get(service, {}).get("ENCORE_DATABASE_URL", self.infra.database_url)

    def prepare(self, migrator: subprocess.Popen[bytes] | None = None) -> None:
        """Create topics and migrate every schema (idempotent), each in its service's database.
        `migrator`: a `spawn_migrator` process already importing, for a single database.
        The topics are created while the migrations run: neither needs the other."""
        from servicekit.kafka import ensure_topics

        by_database: dict[str, list[str]] = {}
        for service in SERVICES:
            by_database.setdefault(self.database_url(service), []).append(service)
        if migrator is not None and len(by_database) == 1:
            (url,) = by_database
            _release_migrator(migrator, url)
        else:
            if migrator is not None:  # several databases: it is not needed
                _release_migrator(migrator, "")
            migrator = None
        asyncio.run(ensure_topics(self.infra.kafka_bootstrap, ALL_TOPICS_WITH_DLQ))
        if migrator is not None:
            _wait_for_migrator(migrator)
            return
        for url, services in by_database.items():
            migrate_all(url, tuple(services))

    def start(
        self,
        service: str,
        *,
        name: str | None = None,
        env: dict[str, str] | None = None,
        importing: subprocess.Popen[bytes] | None = None,
    ) -> None:
        """Start `service`; a `name` other than the service's starts one more replica of it
        on its own port (stop, kill, url and wait_ready then take that name). `importing`:
        a process `preload.spawn` started earlier, which then only needs its environment."""
        name = name or service
        self.log_dir.mkdir(parents=True, exist_ok=True)
        base = self.env()
        self.ports.setdefault(name, processes.free_port())
        self.ops_ports.setdefault(name, processes.free_port())
        ops = {"ENCORE_OPS_HOST": "127.0.0.1", "ENCORE_OPS_PORT": str(self.ops_ports[name])}
        proc = importing or preload.spawn(service, self.log_dir / f"{name}.log")
        preload.release(
            proc,
            self.ports[name],
            {**base, **self.service_env.get(service, {}), **(env or {}), **ops},
        )
        self.procs[name] = proc
        self.service_of[name] = service

    def start_all(self, timeout: float = 60.0) -> None:
        self.env()
        for service in (*SERVICES, *WORKERS):
            self.start(service)
        self.wait_ready((*SERVICES, *WORKERS), timeout)

    def wait_ready(self, services: tuple[str, ...], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = set(services)
        with httpx.Client(timeout=2) as client:
            while pending:
                for service in sorted(pending):
                    proc = self.procs[service]
                    if proc.poll() is not None:
                        raise RuntimeError(
                            f"{service} exited with {proc.returncode}; see {self.log_dir / (service + '.log')}"
                        )
                    try:
                        # ready on the ops port, and the API port serving (it binds after
                        # the app's start-up, in which the ops port opened)
                        ready = client.get(self.ops_url(service) + "/health/ready")
                        if (
                            ready.status_code == 200
                            and client.get(self.url(service) + "/health/live").status_code == 200
                        ):
                            pending.discard(service)
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(f"not ready after {timeout}s: {sorted(pending)}")
                if pending:
                    time.sleep(0.1)

    def stop(self, service: str) -> None:
        proc = self.procs.pop(service, None)
        if proc is not None:
            processes.stop(proc)

    def kill(self, service: str) -> None:
        """SIGKILL, as a crash would: no shutdown hooks run."""
        proc = self.procs.pop(service, None)
        if proc is not None:
            proc.kill()
            proc.wait()

    def stop_all(self) -> None:
        """Gateways first, so the link views they still hold reach sharing; then the other
        services all at once (each drains on its own, one after another would only be slower)."""
        gateways = [name for name in self.procs if self.service_of.get(name) == "gateway"]
        for group in (gateways, [name for name in self.procs if name not in gateways]):
            processes.stop_together([self.procs.pop(name) for name in group], timeout=10)


def migrate_all(database_url: str, services: tuple[str, ...] = SERVICES) -> None:
    """Every service's Alembic migrations, in one child process (importing Alembic and
    SQLAlchemy once instead of four times), away from any running event loop."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"from devstack.suite import _migrate_here; _migrate_here({services!r})",
        ],
        env=processes.child_env({"ENCORE_DATABASE_URL": database_url}),
        check=True,
    )


def spawn_migrator(services: tuple[str, ...] = SERVICES) -> subprocess.Popen[bytes]:
    """The migrations' child process, started early: it imports Alembic and every
    service's migrations (over a second, longer on a busy machine) while Postgres starts,
    then waits for the database URL on stdin (`Suite.prepare` sends it)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from devstack.suite import _migrate_when_told; _migrate_when_told({services!r})",
        ],
        env=processes.child_env({}),
        stdin=subprocess.PIPE,
    )


def _release_migrator(proc: subprocess.Popen[bytes], database_url: str) -> None:
    """Send the URL (an empty line: exit without migrating)."""
    assert proc.stdin is not None
    proc.stdin.write(database_url.encode() + b"\n")
    proc.stdin.close()


def _wait_for_migrator(proc: subprocess.Popen[bytes]) -> None:
    if proc.wait() != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args)


def _migrate_when_told(services: tuple[str, ...]) -> None:
    import importlib
    import os

    import servicekit.migrations  # noqa: F401  # imported now, while Postgres starts

    for service in services:
        importlib.import_module(f"{service}.db.migrate")
    database_url = sys.stdin.readline().strip()
    if not database_url:  # not needed after all, or whoever started us gave up
        return
    os.environ["ENCORE_DATABASE_URL"] = database_url
    _migrate_here(services)


def _migrate_here(services: tuple[str, ...]) -> None:
    import importlib
    import os

    from servicekit.migrations import upgrade_to_head

    for service in services:
        module = importlib.import_module(f"{service}.db.migrate")
        upgrade_to_head(module.MIGRATIONS, os.environ["ENCORE_DATABASE_URL"])
