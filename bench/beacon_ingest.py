"""Listening-beacon ingest (`POST /v1/public/listens`) through the gateway, against the bare
Litestar baseline of bench/public_link.py in the same run, and every beacon counted once.

Each request carries one beacon of its own play id (as the player sends one per pause,
seek and ~10 s), so every one must become exactly one `track.listened` event: the check
reads the topic from Kafka after the load and counts the distinct event ids of the run's
play ids (what analytics will count). The same asyncio client loads both servers (wrk
cannot vary a body per request without a script), so the ratio compares like with like.

    uv run python bench/beacon_ingest.py [--connections 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from figures import Figure
from loadgen import LoadResult, cpu_seconds
from public_link import baseline_server
from stack import BROWSER, ROOT, running_stack

from contracts import topics
from contracts.events import TrackListened, parse_event


async def post_load(
    port: int, path: str, body: Any, connections: int, seconds: float, method: str = "POST"
) -> LoadResult:
    """`body(n)`: the n-th request's body (None: a bodiless GET, for the baseline)."""
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    counter = iter(range(10**9))
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                payload = body(next(counter)) if body else b""
                head = (
                    f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n"
                    f"User-Agent: {BROWSER}\r\n"
                )
                if payload:
                    head += f"Content-Type: text/plain\r\nContent-Length: {len(payload)}\r\n"
                sent = time.perf_counter()
                writer.write(head.encode() + b"\r\n" + payload)
                await writer.drain()
                answer = await reader.readuntil(b"\r\n\r\n")
                status = answer.split(b" ", 2)[1].decode()
                length = 0
                for line in answer.split(b"\r\n"):
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


def counted_once(bootstrap: str, run: str, expected: int, timeout: float = 120.0) -> int:
    """Distinct `track.listened` event ids of this run's play ids, once the count settles."""
    from aiokafka import AIOKafkaConsumer

    async def read() -> int:
        consumer = AIOKafkaConsumer(
            topics.TRACK_LISTENED,
            bootstrap_servers=bootstrap,
            group_id=f"bench-{secrets.token_hex(4)}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        ids: set[str] = set()
        duplicates = 0
        try:
            deadline = time.monotonic() + timeout
            settled_at, last = time.monotonic(), -1
            while time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        event = parse_event(record.value or b"")
                        payload = event.payload
                        if isinstance(payload, TrackListened) and payload.play_id.startswith(run):
                            if str(event.event_id) in ids:
                                duplicates += 1
                            ids.add(str(event.event_id))
                if len(ids) != last:
                    last, settled_at = len(ids), time.monotonic()
                elif len(ids) >= expected and time.monotonic() - settled_at > 3.0:
                    break
        finally:
            await consumer.stop()
        if duplicates:
            print(f"({duplicates} copies of an event id already read: counted once)")
        return len(ids)

    return asyncio.run(read())


@dataclass
class Result:
    connections: int
    seconds: float
    base: LoadResult
    beacons: LoadResult
    events: int
    base_cpu: float  # CPU seconds the baseline server spent on its load
    gateway_cpu: float  # and the gateway on the beacons'

    def cpu_per_request(self) -> tuple[float, float]:
        """µs of CPU per answer, baseline and gateway: the cost of a beacon to the gateway
        alone, apart from how much of two cores the rest of the stack left it."""
        return (
            self.base_cpu / max(self.base.requests, 1) * 1e6,
            self.gateway_cpu / max(self.beacons.requests, 1) * 1e6,
        )

    @property
    def counted(self) -> bool:
        return self.events == self.beacons.statuses.get("202", 0)

    def figures(self) -> list[Figure]:
        b = self.beacons
        ratio = b.rate / self.base.rate
        accepted = b.statuses.get("202", 0)
        base_us, gateway_us = self.cpu_per_request()
        return [
            Figure(
                "beacon ingest (track.listened recorded)",
                f"{b.rate:,.0f} req/s, p50 {b.p50 * 1000:.1f} ms, p99 {b.p99 * 1000:.1f} ms,"
                f" {ratio:.2f} of baseline ({self.base.rate:,.0f} req/s); {self.events:,}"
                f" events for {accepted:,} 202s ({b.tool}); CPU per answer {gateway_us:.0f} µs"
                f" against the baseline's {base_us:.0f} µs ({base_us / gateway_us:.2f} per core)",
                "ratio >= 0.4, every beacon counted once",
                ratio >= 0.4 and self.counted,
            )
        ]


def measure(connections: int = 16, seconds: float = 10.0) -> Result:
    data_dir = ROOT / ".data" / f"bench-{secrets.token_hex(4)}"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        with baseline_server(data_dir) as (port, pid):
            used = cpu_seconds(pid)
            base = asyncio.run(post_load(port, "/", None, connections, seconds, method="GET"))
            base_cpu = cpu_seconds(pid) - used
        # (one load generator on one address: the stack lifts the per-client limit)
        with running_stack(data_dir / "suite") as stack:
            track_id = stack.upload_track()
            link = stack.share(track_id)
            run = "b" + secrets.token_hex(3)

            def body(n: int) -> bytes:
                return json.dumps(
                    {
                        "beacons": [
                            {
                                "token": link["token"],
                                "visitorId": f"v{n % 500}",
                                "sessionId": f"s{n % 500}",
                                "playId": f"{run}-{n}",
                                "trackId": track_id,
                                "intervals": [{"from": 0, "to": 10}],
                            }
                        ]
                    }
                ).encode()

            gateway = stack.suite.procs["gateway"].pid
            used = cpu_seconds(gateway)
            beacons = asyncio.run(
                post_load(
                    stack.suite.gateway_port, "/v1/public/listens", body, connections, seconds
                )
            )
            gateway_cpu = cpu_seconds(gateway) - used
            events = counted_once(stack.infra.kafka_bootstrap, run, beacons.statuses.get("202", 0))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return Result(connections, seconds, base, beacons, events, base_cpu, gateway_cpu)


def report(result: Result) -> None:
    print()
    print(
        f"{result.connections} connections x {result.seconds:.0f} s on 127.0.0.1"
        f" ({result.beacons.tool}), uvicorn, one worker per service"
    )
    for figure in result.figures():
        print(f"{figure.benchmark}: {figure.figure} (target {figure.target})")
    print(f"baseline statuses {result.base.statuses}; beacons {result.beacons.statuses}")


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
