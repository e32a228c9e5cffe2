"""`make run` as a newcomer uses it: Ctrl-C, a killed supervisor, the operator CLI.

These start the real supervisor (`python -m devstack.run`, what `make run` runs) as a child
in its own process group, the way a terminal runs a foreground job, on a throw-away data
directory and a free gateway port.
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from devstack.processes import free_port
from devstack.restartable import postgres_bin, postgres_system_user, start_local_postgres
from tests.conftest import MEDIA, ROOT, eventually

pytestmark = pytest.mark.e2e

READY_TIMEOUT = 180.0  # a cold start under the load of a shared 2-core machine


@dataclass
class Supervisor:
    """One `python -m devstack.run`, its output collected line by line."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)

    def collect(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
        self.ended.set()

    def printed(self, label: str) -> str:
        values = [line.split(": ", 1)[1] for line in self.lines if line.startswith(label + ": ")]
        assert values, f"no {label!r} line in:\n" + "\n".join(self.lines)
        return values[-1]

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


@dataclass
class DevStack:
    data_dir: Path
    port: int = field(default_factory=free_port)
    current: Supervisor | None = None

    def env(self) -> dict[str, str]:
        """The caller's environment without any `ENCORE_*`, so the ladder starts everything."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENCORE_")}
        return {**env, "ENCORE_DATA_DIR": str(self.data_dir), "ENCORE_PORT": str(self.port)}

    def start(self) -> Supervisor:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devstack.run"],
            env=self.env(),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            process_group=0,  # like a terminal's foreground job: its own group
        )
        supervisor = Supervisor(proc)
        threading.Thread(target=supervisor.collect, daemon=True).start()
        self.current = supervisor
        eventually(
            lambda: (
                any(line.startswith("Ready:") for line in supervisor.lines)
                or supervisor.ended.is_set()
            ),
            READY_TIMEOUT,
        )
        assert any(line.startswith("Ready:") for line in supervisor.lines), supervisor.output
        return supervisor

    def running(self) -> Supervisor:
        if self.current is None or self.current.proc.poll() is not None:
            return self.start()
        return self.current

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        """`sig` to the whole process group, as a terminal's Ctrl-C does; the exit code."""
        supervisor = self.current
        assert supervisor is not None
        self.current = None
        os.killpg(supervisor.proc.pid, sig)
        code = supervisor.proc.wait(timeout=120)
        supervisor.ended.wait(10)
        return code

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def dev_stack() -> Iterator[DevStack]:
    stack = DevStack(ROOT / ".data" / f"devstack-{uuid.uuid4().hex[:8]}")
    try:
        yield stack
    finally:
        if stack.current is not None and stack.current.proc.poll() is None:
            stack.stop(signal.SIGTERM)
        shutil.rmtree(stack.data_dir, ignore_errors=True)


def test_ctrl_c_right_after_an_upload_keeps_its_bytes(dev_stack: DevStack) -> None:
    supervisor = dev_stack.running()
    key, org = supervisor.printed("API key"), supervisor.printed("Organization")
    headers = {"X-API-Key": key}
    audio = (MEDIA / "tone-3s.mp3").read_bytes()
    with httpx.Client(base_url=dev_stack.gateway, timeout=30) as api:
        created = api.post(
            f"/v1/music/{org}/tracks",
            headers=headers,
            files={"file": ("last-second.mp3", audio, "audio/mpeg")},
            data={"title": "Uploaded just before Ctrl-C"},
        )
        assert created.status_code == 201, created.text
        track_id = created.json()["id"]
        code = dev_stack.stop(signal.SIGINT)  # at once, to every process of the group
        assert code == 0, supervisor.output
        assert "Stopped." in supervisor.lines, supervisor.output

        dev_stack.start()
        # the original is kept byte for byte (downloads serve it); playback serves the
        # rendition once the media job, written with the upload, has run after the restart
        download = api.get(f"/v1/music/{org}/tracks/{track_id}/download-url", headers=headers)
        assert download.status_code == 200, download.text
        media = httpx.get(download.json()["url"], timeout=30)
        playable = eventually(
            lambda: (
                api.get(
                    f"/v1/music/{org}/tracks/{track_id}/playback-url", headers=headers
                ).status_code
                == 200
            ),
            timeout=60,
        )
    assert playable
    assert media.status_code == 200, media.text
    assert media.content == audio


def _processes() -> dict[int, tuple[int, str]]:
    """Every live (not zombie) process: pid -> (parent pid, command line)."""
    found: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended while we looked
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if state != "Z":
            found[int(entry.name)] = (int(ppid), cmdline)
    return found


def _stack_processes(supervisor_pid: int, data_dir: Path) -> set[int]:
    """The supervisor's descendants, anything naming the data directory, and theirs: the
    second catches a server that daemonized away from the supervisor's tree."""
    table = _processes()
    roots = {supervisor_pid} | {pid for pid, (_, cmd) in table.items() if str(data_dir) in cmd}
    found = set(roots) & set(table)
    grew = True
    while grew:
        children = {pid for pid, (ppid, _) in table.items() if ppid in found} - found
        found |= children
        grew = bool(children)
    return found


def test_nothing_outlives_a_killed_supervisor(dev_stack: DevStack) -> None:
    supervisor = dev_stack.running()
    key = supervisor.printed("API key")
    stack = _stack_processes(supervisor.proc.pid, dev_stack.data_dir)
    assert len(stack) >= 8, stack  # supervisor, 4 services, Postgres, Kafka, S3

    supervisor.proc.send_signal(signal.SIGKILL)  # the supervisor only, as `kill -9` would
    supervisor.proc.wait()
    dev_stack.current = None

    def leftovers() -> dict[int, str]:
        table = _processes()
        left = (stack & set(table)) | _stack_processes(supervisor.proc.pid, dev_stack.data_dir)
        return {pid: table[pid][1] for pid in left if pid in table}

    try:
        eventually(lambda: not leftovers(), 30)
    except AssertionError:
        raise AssertionError(f"still running: {leftovers()}") from None

    again = dev_stack.start()
    assert again.printed("API key") == key


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _assert_one_clear_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_cli_says_in_one_line_when_the_database_is_unreachable(dev_stack: DevStack) -> None:
    port = free_port()  # nothing listens there
    unreachable = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    result = _cli(
        "users",
        "create",
        "--handle",
        "nobody",
        env={**os.environ, "ENCORE_DATABASE_URL": unreachable},
    )
    _assert_one_clear_line(result, "database", f"127.0.0.1:{port}")


def test_cli_says_in_one_line_when_the_database_is_not_migrated(dev_stack: DevStack) -> None:
    dev_stack.running()
    stack = json.loads((dev_stack.data_dir / "stack.json").read_text())
    url: str = stack["env"]["ENCORE_DATABASE_URL"]
    empty = "cli_empty_" + uuid.uuid4().hex[:6]

    async def create_database() -> None:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(f"CREATE DATABASE {empty}"))
        await engine.dispose()

    asyncio.run(create_database())
    empty_url = url.replace("@/postgres", f"@/{empty}", 1)
    assert empty_url != url
    result = _cli(
        "users",
        "create",
        "--handle",
        "nobody",
        env={**os.environ, "ENCORE_DATABASE_URL": empty_url},
    )
    _assert_one_clear_line(result, "migrat")


def test_cli_finds_the_running_dev_stack_by_itself(dev_stack: DevStack) -> None:
    dev_stack.running()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENCORE_")}
    env["ENCORE_DATA_DIR"] = str(dev_stack.data_dir)
    result = _cli("users", "create", "--handle", "ada-cli", "--display-name", "Ada", env=env)
    assert result.returncode == 0, result.stderr
    assert str(dev_stack.data_dir) in result.stderr  # it says which stack it used
    created = json.loads(result.stdout)
    me = httpx.get(
        dev_stack.gateway + "/v1/me", headers={"X-API-Key": created["api_key"]}, timeout=30
    )
    assert me.status_code == 200 and me.json()["handle"] == "ada-cli"


def test_make_migrate_uses_the_running_stack_and_starts_no_second_server(
    dev_stack: DevStack,
) -> None:
    supervisor = dev_stack.running()
    before = _stack_processes(supervisor.proc.pid, dev_stack.data_dir)
    result = subprocess.run(
        [sys.executable, "-m", "devstack.migrate"],
        env=dev_stack.env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "running `make run`" in result.stdout
    assert _stack_processes(supervisor.proc.pid, dev_stack.data_dir) == before
    me = httpx.get(
        dev_stack.gateway + "/v1/me",
        headers={"X-API-Key": supervisor.printed("API key")},
        timeout=30,
    )
    assert me.status_code == 200, me.text


def _select_one(url: str) -> int:
    async def query() -> int:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(url)
        async with engine.connect() as connection:
            value = await connection.scalar(text("SELECT 1"))
        await engine.dispose()
        return int(value)

    return asyncio.run(query())


def test_postgres_starts_over_a_leftover_server_and_a_stale_pid_file() -> None:
    """A server an older run daemonized (pg_ctl) is stopped; a postmaster.pid naming a live
    process that is no postgres (a reused pid) does not keep the next one from starting."""
    data_dir = ROOT / ".data" / f"pg-leftover-{uuid.uuid4().hex[:8]}"
    try:
        database = start_local_postgres(data_dir / "postgres", persistent=True)
        database.stop()
        user = postgres_system_user()
        daemonized = subprocess.run(
            [
                str(postgres_bin() / "pg_ctl"),
                *("-D", str(database.pgdata), "-l", str(database.pgdata / "pg_ctl.log")),
                *("-o", f'-h "" -k {database.socket_dir}', "-w", "start"),
            ],
            # its own group too: under a parent only "others" may traverse (a 0701 temp
            # dir), root's group would be refused
            user=user,
            group=pwd.getpwnam(user).pw_gid if user else None,
            extra_groups=[] if user else None,
            cwd=database.pgdata,
            capture_output=True,
            text=True,
        )
        assert daemonized.returncode == 0, daemonized.stderr
        leftover = int((database.pgdata / "postmaster.pid").read_text().split()[0])
        assert _is_alive(leftover)

        database = start_local_postgres(data_dir / "postgres", persistent=True)
        assert not _is_alive(leftover)
        assert _select_one(database.url) == 1

        assert database.proc is not None
        server = _stack_processes(database.proc.pid, database.pgdata)
        database.proc.kill()  # a crash (or a reboot): its postmaster.pid stays behind
        database.proc.wait()
        eventually(lambda: not server & set(_processes()), 30)  # its backends notice and go
        pid_file = database.pgdata / "postmaster.pid"
        lines = pid_file.read_text().splitlines()
        lines[0] = str(os.getpid())  # the pid now belongs to a live process, not a postgres
        pid_file.write_text("\n".join(lines) + "\n")

        database = start_local_postgres(data_dir / "postgres", persistent=False)
        assert _select_one(database.url) == 1
        database.close()
        assert not (data_dir / "postgres").exists()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _is_alive(pid: int) -> bool:
    return pid in _processes()
