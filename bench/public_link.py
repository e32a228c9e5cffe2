"""Public link open and cold start, measured against baselines in the same run.

- Public link open: `GET /v1/public/track-links/{token}` through the gateway, each request
  recording a view, under a fixed loopback load (connections x seconds; wrk when installed,
  see loadgen.py). Baseline: a minimal Litestar app answering constant JSON, same server
  (uvicorn, one worker), same load. Prints req/s, p50, p99, the ratio to the baseline, and
  checks every view was counted.
- Cold start: `python -m devstack.run` (dependencies installed, empty data dir) to its first
  200 from the gateway.

    uv run python bench/public_link.py [--connections 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from figures import Figure
from loadgen import LoadResult, run_load
from stack import ROOT, running_stack

from devstack import processes


def row(name: str, result: LoadResult, baseline: LoadResult | None, target: str) -> str:
    ratio = f"{result.rate / baseline.rate:.2f}" if baseline else "1.00"
    return (
        f"| {name} | {result.rate:,.0f} | {result.p50 * 1000:.1f} | {result.p99 * 1000:.1f} "
        f"| {ratio} | {target} |"
    )


@contextmanager
def baseline_server(log_dir: Path) -> Iterator[tuple[int, int]]:
    """The baseline app under uvicorn, one worker; yields its port and process id."""
    port = processes.free_port()
    proc = processes.spawn(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "baseline_app:app",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        log_path=log_dir / "baseline.log",
        cwd=Path(__file__).parent,
    )
    try:
        processes.wait_for_port(port, 30, proc)
        yield port, proc.pid
    finally:
        processes.stop(proc)


def baseline(connections: int, seconds: float, log_dir: Path) -> LoadResult:
    with baseline_server(log_dir) as (port, _):
        return run_load(port, "/", connections, seconds)


def public_link(connections: int, seconds: float, data_dir: Path) -> tuple[LoadResult, bool, int]:
    """The load, then the link's view count once it settles. wrk stops with up to one
    request per connection in flight, which the gateway may have served (and counted)
    without wrk counting its 200; the asyncio client reads every answer it asked for."""
    with running_stack(data_dir) as stack:
        link = stack.share(stack.upload_track())
        result = run_load(
            stack.suite.gateway_port,
            f"/v1/public/track-links/{link['token']}",
            connections,
            seconds,
        )
        in_flight = connections if result.tool == "wrk" else 0
        deadline = time.monotonic() + 60
        views, settled_at = -1, time.monotonic()
        while time.monotonic() < deadline:
            page = stack.api.get(f"/v1/music/{stack.org}/shares", headers=stack.headers).json()
            now_views = page["items"][0]["stats"]["views"]
            if now_views != views:
                views, settled_at = now_views, time.monotonic()
            elif views >= result.ok and time.monotonic() - settled_at > 1.0:
                break
            time.sleep(0.2)
    return result, result.ok <= views <= result.ok + in_flight, views


def cold_start(data_dir: Path) -> float:
    port = processes.free_port()
    env = processes.child_env({"ENCORE_PORT": str(port), "ENCORE_DATA_DIR": str(data_dir)})
    for name in ("ENCORE_DATABASE_URL", "ENCORE_KAFKA_BOOTSTRAP", "ENCORE_S3_ENDPOINT"):
        env.pop(name, None)
    data_dir.mkdir(parents=True, exist_ok=True)
    output = data_dir / "make-run.log"
    start = time.perf_counter()
    with output.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "devstack.run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        with httpx.Client(timeout=1) as client:
            while time.perf_counter() - start < 120:
                try:
                    if client.get(f"http://127.0.0.1:{port}/health/live").status_code == 200:
                        return time.perf_counter() - start
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None:  # say why, instead of waiting out the 120 s
                    tail = output.read_text(errors="replace")[-600:]
                    raise RuntimeError(f"make run exited with {proc.returncode}: {tail}")
                time.sleep(0.05)
        raise TimeoutError("no 200 from the gateway within 120 s")
    finally:
        proc.send_signal(2)
        proc.wait(30)


@dataclass
class Result:
    connections: int
    seconds: float
    base: LoadResult
    link: LoadResult
    counted: bool
    views: int
    cold: float | None

    def figures(self) -> list[Figure]:
        link = self.link
        ratio = link.rate / self.base.rate
        p99 = link.p99
        return [
            Figure(
                "public link open (view recorded)",
                f"{link.rate:,.0f} req/s, p50 {link.p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms,"
                f" {ratio:.2f} of baseline ({self.base.rate:,.0f} req/s);"
                f" views counted {self.views:,} for {link.ok:,} 200s ({link.tool})",
                "ratio >= 0.4, p99 < 20 ms, every view counted",
                ratio >= 0.4 and p99 < 0.020 and self.counted,
            ),
        ] + ([cold_figure(self.cold)] if self.cold is not None else [])


def cold_figure(seconds: float) -> Figure:
    return Figure("cold start (make run to first 200)", f"{seconds:.1f} s", "< 10 s", seconds < 10)


def measure(connections: int = 16, seconds: float = 10.0, with_cold_start: bool = True) -> Result:
    data_dir = ROOT / ".data" / f"bench-{secrets.token_hex(4)}"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        base = baseline(connections, seconds, data_dir)
        link, counted, views = public_link(connections, seconds, data_dir / "suite")
        cold = cold_start(data_dir / "cold") if with_cold_start else None
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return Result(connections, seconds, base, link, counted, views, cold)


def report(result: Result) -> None:
    link = result.link
    print()
    print(
        f"{result.connections} connections x {result.seconds:.0f} s on 127.0.0.1 ({link.tool}),"
        " uvicorn, one worker per service"
    )
    print("| benchmark | req/s | p50 ms | p99 ms | vs baseline | target |")
    print("|---|---:|---:|---:|---:|---|")
    print(row("baseline: constant JSON (Litestar)", result.base, None, ""))
    print(row("public link open (view recorded)", link, result.base, "ratio >= 0.4, p99 < 20 ms"))
    print(
        f"every view counted: {'yes' if result.counted else 'NO'} ({result.views:,} views for"
        f" {link.ok:,} 200s; statuses {link.statuses})"
    )
    if result.cold is not None:
        print(f"cold start (make run to first 200): {result.cold:.1f} s (target < 10 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    result = measure(args.connections, args.seconds)
    report(result)
    sys.exit(0 if result.counted else 1)


if __name__ == "__main__":
    main()
