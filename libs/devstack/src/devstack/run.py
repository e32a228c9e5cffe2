"""`make run`: the whole suite on this machine, with no Docker and no cloud.

Starts (or finds) Postgres, Kafka and S3, migrates, starts the four services, seeds a demo
artist, prints how to use it, and stops everything it started on Ctrl-C. Data lives in
`.data/dev/` and is reused by the next run.

Stopping is always the same sequence, whichever signal arrives (Ctrl-C, SIGTERM, SIGHUP)
and whether it reached only us or the terminal's whole process group (the children run in
sessions of their own, see processes.py): services, the mirror's last save, then the
infrastructure. While running, `.data/dev/stack.json` says where the stack is (for the
operator CLI) and a lock on `.data/dev/supervisor.lock` keeps a second supervisor out.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import IO, Any

from devstack import demo, preload
from devstack.infra import start_infrastructure
from devstack.suite import SERVICES, WORKERS, Suite, spawn_migrator

DATA_DIR = Path(os.environ.get("ENCORE_DATA_DIR", ".data/dev")).resolve()
STACK_FILE = "stack.json"  # read by the operator CLI (gateway/cli.py)
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _stable_secrets(path: Path) -> dict[str, str]:
    """Internal token, admin key and media signing key survive restarts (signed URLs too)."""
    if path.exists():
        return dict(json.loads(path.read_text()))
    values = {
        "internal_token": secrets.token_urlsafe(24),
        "admin_api_key": "sk_admin_" + secrets.token_urlsafe(24),
        "media_signing_key": secrets.token_urlsafe(32),
    }
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


def _interrupt(signum: int, _: FrameType | None) -> None:
    """The first stop signal starts the shutdown; later ones (a second Ctrl-C, the SIGTERM
    `uv run` forwards) must not cut it short."""
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def claim_data_dir(data_dir: Path) -> IO[str] | None:
    """Lock `data_dir` for this process's lifetime (the kernel drops the lock when we die,
    however we die); None when a running supervisor holds it."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / "supervisor.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.truncate(0)
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def running_stack(data_dir: Path) -> dict[str, Any] | None:
    """What a running `make run` on `data_dir` wrote about itself, if one is running."""
    try:
        stack: dict[str, Any] = json.loads((data_dir / STACK_FILE).read_text())
        os.kill(int(stack["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return stack


def _write_stack_file(data_dir: Path, suite: Suite) -> None:
    """Where this stack is and the gateway's settings (secrets included: owner-only file)."""
    path = data_dir / STACK_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(
            {
                "pid": os.getpid(),
                "gateway_url": suite.gateway_url,
                "env": {**suite.env(), **suite.service_env.get("gateway", {})},
            },
            out,
            indent=2,
        )


def _say(message: str) -> None:
    """Print while stopping, when the terminal may already be gone (SIGHUP)."""
    with contextlib.suppress(OSError):
        print(message, flush=True)


def _backfill(suite: Suite, command: str) -> None:
    """Tracks and albums kept from an older data dir get their renditions and artwork sizes
    too (docs/media-pipeline.md); both backfills are idempotent, so every start runs them."""
    env = {**os.environ, **suite.env(), "ENCORE_DATABASE_URL": suite.database_url("catalog")}
    done = subprocess.run(
        [sys.executable, "-m", "catalog.cli", command, "--quiet"],
        env=env,
        capture_output=True,
        text=True,
    )
    print(f"{command}: {done.stdout.strip() or done.stderr.strip()[-300:]}", flush=True)


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    started = time.monotonic()
    port = int(os.environ.get("ENCORE_PORT", "8000"))
    lock = claim_data_dir(DATA_DIR)
    if lock is None:
        holder = (DATA_DIR / "supervisor.lock").read_text().strip() or "?"
        print(
            f"another `make run` (pid {holder}) is using {DATA_DIR}; stop it first",
            file=sys.stderr,
        )
        return 2
    if _port_taken(port):
        print(f"port {port} is taken; set ENCORE_PORT to another one", file=sys.stderr)
        return 2
    for sig in _STOP_SIGNALS:
        signal.signal(sig, _interrupt)
    infra = None
    suite = None
    try:
        print(f"Starting Encore (data in {DATA_DIR}) ...", flush=True)
        # the services import while the infrastructure starts (see preload.py)
        importing = {
            s: preload.spawn(s, DATA_DIR / "logs" / f"{s}.log") for s in (*SERVICES, *WORKERS)
        }
        migrator = spawn_migrator()  # imports Alembic and the migrations meanwhile too
        infra = start_infrastructure(DATA_DIR, persistent=True)
        print(
            "Infrastructure: " + ", ".join(f"{k}={v}" for k, v in infra.sources.items()), flush=True
        )
        if infra.s3_mirror is not None:
            infra.s3_mirror.start_background_sync()
        keys = _stable_secrets(DATA_DIR / "secrets.json")
        suite = Suite(
            infra,
            DATA_DIR / "logs",
            port,
            internal_token=keys["internal_token"],
            admin_api_key=os.environ.get("ENCORE_ADMIN_API_KEY", keys["admin_api_key"]),
            media_signing_key=keys["media_signing_key"],
        )
        suite.prepare(migrator)
        for service, proc in importing.items():
            suite.start(service, importing=proc)
        suite.wait_ready((*SERVICES, *WORKERS), timeout=60)
        seeded = demo.seed(suite.gateway_url, suite.admin_api_key, DATA_DIR / "demo.json")
        _backfill(suite, "backfill-media")
        _backfill(suite, "backfill-artwork")
        print(f"API key: {seeded.api_key}")
        print(f"Organization: {seeded.organization_id}")
        print(f"Track: {seeded.track_id}")
        print(f"Share page: {suite.gateway_url}/t/{seeded.link_token}")
        print(f"Public link (JSON): {suite.gateway_url}/v1/public/track-links/{seeded.link_token}")
        print(f"Dashboard: {suite.gateway_url}/app/login (sign in with the API key)")
        print(f"Admin key: {suite.admin_api_key}")
        print(f"Logs: {DATA_DIR / 'logs'}")
        _write_stack_file(DATA_DIR, suite)
        print(f"Gateway metrics: {suite.ops_url('gateway')}/metrics")
        print(
            f"Ready: gateway on {suite.gateway_url} after {time.monotonic() - started:.1f}s. Ctrl-C stops.",
            flush=True,
        )
        while True:
            for name, proc in suite.procs.items():
                if proc.poll() is not None:
                    print(
                        f"{name} exited with {proc.returncode}; see {DATA_DIR / 'logs' / name}.log",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        _say("\nStopping ...")
        return 0
    finally:
        for sig in _STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        (DATA_DIR / STACK_FILE).unlink(missing_ok=True)
        if suite is not None:
            suite.stop_all()
        if infra is not None:
            if infra.s3_mirror is not None:
                infra.s3_mirror.stop_background_sync()
            infra.close()  # the mirror's last save, then the servers
        _say("Stopped.")
        lock.close()


def _port_taken(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


if __name__ == "__main__":
    sys.exit(main())
