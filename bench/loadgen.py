"""Fixed-duration, fixed-connection HTTP/1.1 keep-alive load on loopback.

`wrk` (a C load tool; `make bench` installs Debian's package where it can) is used when it
is on PATH: on two cores every microsecond the client spends is taken from the servers it
measures, and wrk costs about a tenth of the asyncio client below (measured here: ~91 µs of
CPU per request for the asyncio client). Without wrk the asyncio client runs instead and
the result says so: its figures are lower for every server, the baseline included.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    tool: str
    requests: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)  # "200", or "other" from wrk
    p50: float = float("nan")
    p99: float = float("nan")

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> int:
        return self.statuses.get("200", 0)


def run_load(port: int, path: str, connections: int, seconds: float) -> LoadResult:
    if shutil.which("wrk"):
        return run_wrk(port, path, connections, seconds)
    return asyncio.run(run_asyncio(port, path, connections, seconds))


def run_wrk(port: int, path: str, connections: int, seconds: float) -> LoadResult:
    out = subprocess.run(
        [
            "wrk",
            "--threads",
            "1",
            "--connections",
            str(connections),
            "--duration",
            f"{seconds:g}s",
            "--timeout",
            "5s",
            "--latency",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    found = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if found is None:
        raise RuntimeError(f"wrk said nothing countable: {out!r}")
    requests = int(found.group(1))
    other = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = int(other.group(1)) if other else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return LoadResult(
        tool="wrk",
        requests=requests,
        seconds=float(found.group(2)) / (1000 if found.group(3) == "ms" else 1),
        statuses={"200": requests - failed, "other": failed}
        | ({"socket errors": sum(map(int, errors.groups()))} if errors else {}),
        p50=_wrk_latency(out, "50%"),
        p99=_wrk_latency(out, "99%"),
    )


def _wrk_latency(out: str, label: str) -> float:
    found = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if found is None:
        return float("nan")
    return float(found.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0}[found.group(2)]


async def run_asyncio(port: int, path: str, connections: int, seconds: float) -> LoadResult:
    """The fallback client: raw asyncio streams, every request's latency kept."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                writer.write(request.encode())
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                status = head.split(b" ", 2)[1].decode()
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - sent)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    ordered = sorted(latencies)
    return LoadResult(
        tool="asyncio client",
        requests=len(latencies),
        seconds=time.perf_counter() - start,
        statuses=statuses,
        p50=statistics.median(ordered) if ordered else float("nan"),
        p99=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan"),
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc): what a server spent on a
    load, whatever share of the cores the other processes on the machine left it."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
