"""Child processes that cannot outlive us: killed on exit, on Ctrl-C and if we are killed.

Each child runs in its own session, so a terminal's Ctrl-C (sent to the whole foreground
process group) reaches only the supervisor, which then stops the children in order: an S3
server that died with everyone else could not take the last save of the S3 mirror.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent(death_signal: signal.Signals) -> Callable[[], None]:
    """In the child: ask Linux to send `death_signal` when the parent dies, even by SIGKILL.

    Runs after Popen has switched user (if asked to), since a change of user clears the
    setting. A parent that died before the request was made is caught by its pid."""
    parent = os.getpid()

    def request() -> None:
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError):
                ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, death_signal)
            if os.getppid() != parent:
                os.kill(os.getpid(), death_signal)

    return request


def spawn(
    argv: Sequence[str],
    *,
    log_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: bool = False,
    user: str | None = None,
    death_signal: signal.Signals = signal.SIGTERM,
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session (no terminal signal reaches it), as `user` if given;
    it gets `death_signal` if this process dies first."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            user=user,
            group=pwd.getpwnam(user).pw_gid if user else None,
            extra_groups=[] if user else None,
            start_new_session=True,
            preexec_fn=_die_with_parent(death_signal),
        )
    finally:
        if log_path and not isinstance(out, int):
            out.close()


def stop(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    stop_together([process], timeout)


def stop_together(
    procs: Sequence[subprocess.Popen[bytes]],
    timeout: float = 5.0,
    sig: signal.Signals = signal.SIGTERM,
) -> None:
    """Send `sig` to all at once, then wait for each; SIGKILL whatever is left at `timeout`."""
    running = [proc for proc in procs if proc.poll() is None]
    for proc in running:
        proc.send_signal(sig)
    deadline = time.monotonic() + timeout
    for proc in running:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
