"""`make bench`: every benchmark in one run, one after another (each on its own stack, so
none measures another's leftovers), then one table of every figure beside its target.

Each benchmark still prints its own detailed table as it finishes, and each script still
runs alone (`uv run python bench/<name>.py --help`). A benchmark that crashes becomes a row
saying so; the others still run. Exit status 1 if any crashed or a correctness check failed
(views not all counted, aggregates not exact); a missed speed target is a figure, not an
error.

    uv run python bench/run_all.py [--events 1000000] [--only freshness,list_shares]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import analytics_ingest
import beacon_ingest
import dashboard
import freshness
import list_shares
import listen_report
import media_ready
import media_worker
import public_link
import web_pages
from figures import Figure, table
from stack import ROOT


def ingest(args: argparse.Namespace) -> tuple[list[Figure], bool]:
    result = asyncio.run(
        analytics_ingest.run(argparse.Namespace(events=200_000, naive_seconds=15.0))
    )
    return result.figures(), result.exact


def link_open(args: argparse.Namespace) -> tuple[list[Figure], bool]:
    result = public_link.measure(with_cold_start=False)
    public_link.report(result)
    return result.figures(), result.counted


def beacons(args: argparse.Namespace) -> tuple[list[Figure], bool]:
    result = beacon_ingest.measure()
    beacon_ingest.report(result)
    return result.figures(), result.counted


def cold_start(args: argparse.Namespace) -> tuple[list[Figure], bool]:
    data_dir = ROOT / ".data" / f"bench-{secrets.token_hex(4)}"
    try:
        seconds = public_link.cold_start(data_dir)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"cold start (make run to first 200): {seconds:.1f} s (target < 10 s)")
    return [public_link.cold_figure(seconds)], True


def fresh(args: argparse.Namespace) -> tuple[list[Figure], bool]:
    phases = freshness.measure()
    freshness.report(phases, poll_ms=10.0)
    return [p.figure() for p in phases], all(p.freshness and not p.lost for p in phases)


def shares(args: argparse.Namespace) -> tuple[list[Figure], bool]:
    result = list_shares.measure(events=args.events)
    list_shares.report(result)
    return result.figures(), result.exact


def listening(args: argparse.Namespace) -> tuple[list[Figure], bool]:
    result = listen_report.measure(
        argparse.Namespace(
            plays=20_000, beacons_per_play=50, listeners=5_000, requests=200, profile=False
        )
    )
    print(table(result.figures()))
    return result.figures(), result.exact


def media(args: argparse.Namespace) -> tuple[list[Figure], bool]:
    result = media_worker.measure()
    figures = result.figures()
    print(table(figures))
    return figures, True


def pages(args: argparse.Namespace) -> tuple[list[Figure], bool]:
    result = web_pages.measure()
    web_pages.report(result)
    return result.figures(), result.counted


def app_pages(args: argparse.Namespace) -> tuple[list[Figure], bool]:
    result = dashboard.measure(events=args.events)
    dashboard.report(result)
    return result.figures(), True


def ready(args: argparse.Namespace) -> tuple[list[Figure], bool]:
    figures = media_ready.measure().figures()
    print(table(figures))
    return figures, True


BENCHMARKS: dict[str, Callable[[argparse.Namespace], tuple[list[Figure], bool]]] = {
    "public_link": link_open,
    "beacon_ingest": beacons,
    "cold_start": cold_start,
    "freshness": fresh,
    "list_shares": shares,
    "analytics_ingest": ingest,
    "listen_report": listening,
    "media_worker": media,
    "web_pages": pages,
    "media_ready": ready,
    "dashboard": app_pages,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="events behind the shares list"
    )
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset")
    args = parser.parse_args()
    started = time.perf_counter()
    figures: list[Figure] = []
    healthy = True
    for name in args.only.split(","):
        print(f"\n=== {name} ===", flush=True)
        try:
            rows, ok = BENCHMARKS[name](args)
        except Exception as exc:
            traceback.print_exc()
            rows, ok = [Figure(name, f"crashed: {type(exc).__name__}: {exc}", "", False)], False
        figures.extend(rows)
        healthy = healthy and ok
    print()
    print(
        f"make bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}:"
        f" {os.cpu_count()} cores {platform.machine()}, Python {platform.python_version()},"
        f" {len(figures)} figures in {time.perf_counter() - started:.0f} s"
    )
    print(table(figures))
    sys.exit(0 if healthy else 1)


if __name__ == "__main__":
    main()
