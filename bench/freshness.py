"""Freshness: how long after an engagement request's 200 the stats API shows the event,
while the pipeline carries a steady load (default 1,000 events/s; target p99 < 1 s).

Method. Probe links get nothing but probes: each has one public open
(`GET /v1/public/track-links/{token}`, a distinct visitorId each time) in flight at a time,
so the next increment of that link's `views` is that probe's event and nothing else's. A
poller asks analytics' stats API (`/internal/stats/links?ids=…`, what the gateway's shares
list shows, without the gateway hop) for every probe link at once every `--poll-ms`; the
time from the probe's 200 to the poll response that shows the increment is its freshness,
an upper bound by at most one poll interval plus one poll round trip.

Background load, on other links of the same org, in two phases of the same run:
  http:  public opens through the gateway, open loop at `--rate` requests/s (the literal
         case; prints the rate achieved, which the gateway may not reach on this machine);
  kafka: `share.clicked` events produced straight onto the topic at `--rate` events/s, so
         the consumer side sees the full rate even when the gateway cannot generate it.

    uv run python bench/freshness.py [--rate 1000] [--seconds 15] [--probes 8] [--phases http,kafka]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).parent))
from figures import Figure, median, percentile
from rawhttp import RawConnection
from stack import ROOT, Stack, running_stack

from contracts.events import ShareClicked, Visitor, wrap
from servicekit.internal import INTERNAL_TOKEN_HEADER

TARGET_P99 = 1.0
PROBE_TIMEOUT = 15.0  # a probe not visible by then counts as lost (and fails the target)
BACKLOG_SECONDS = 0.5  # open loop: sends more than this far behind schedule are dropped


@dataclass
class Phase:
    name: str
    offered: float
    seconds: float
    sent: int = 0
    ok: int = 0
    dropped: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    freshness: list[float] = field(default_factory=list)
    lost: int = 0
    lost_detail: list[str] = field(default_factory=list)
    load_seconds: float = 0.0
    probe_failures: int = 0
    poll_latency: list[float] = field(default_factory=list)

    @property
    def achieved(self) -> float:
        return self.ok / self.load_seconds if self.load_seconds else 0.0

    def met(self) -> bool:
        return (
            bool(self.freshness)
            and self.lost == 0
            and percentile(self.freshness, 0.99) < TARGET_P99
            and self.achieved >= 0.95 * self.offered
        )

    def figure(self) -> Figure:
        fresh = (
            f"p50 {median(self.freshness) * 1000:,.0f} ms, p99 {percentile(self.freshness, 0.99) * 1000:,.0f} ms"
            f" ({len(self.freshness)} probes{f', {self.lost} lost' if self.lost else ''})"
        )
        unit = "requests" if self.name == "http" else "events"
        rate = f"{self.achieved:,.0f} {unit}/s of {self.offered:,.0f} offered"
        label = {
            "http": "freshness: opens through the gateway",
            "kafka": "freshness: events onto Kafka, probes through the gateway",
        }[self.name]
        return Figure(label, f"{fresh}; {rate}", "p99 < 1 s at 1,000/s", self.met())


class Watcher:
    """Polls the probe links' counters and wakes the probe whose increment has appeared."""

    def __init__(self, port: int, token: str, link_ids: list[str], interval: float) -> None:
        self.port = port
        self.headers = {INTERNAL_TOKEN_HEADER: token}
        self.path = "/internal/stats/links?ids=" + ",".join(link_ids)
        self.interval = interval
        self.views: dict[str, int] = dict.fromkeys(link_ids, 0)
        self.waiting: dict[str, tuple[int, asyncio.Future[float]]] = {}
        self.latencies: list[float] = []

    async def refresh(self, conn: RawConnection) -> None:
        sent = time.perf_counter()
        status, _, body = await conn.get(self.path, self.headers)
        seen = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"stats API answered {status}: {body[:200]!r}")
        self.latencies.append(seen - sent)
        for link_id, stats in json.loads(body).items():
            self.views[link_id] = stats["views"]
            wanted = self.waiting.get(link_id)
            if wanted and stats["views"] >= wanted[0] and not wanted[1].done():
                wanted[1].set_result(seen)

    async def run(self, stop: asyncio.Event) -> None:
        conn = await RawConnection.open(self.port)
        try:
            while not stop.is_set():
                started = time.perf_counter()
                await self.refresh(conn)
                await asyncio.sleep(max(0.0, self.interval - (time.perf_counter() - started)))
        finally:
            conn.close()

    def expect(self, link_id: str, views: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[link_id] = (views, future)
        return future


async def probe(
    port: int, link: dict[str, str], watcher: Watcher, phase: Phase, until: float
) -> None:
    """One probe in flight on this link at a time, each with its own visitor."""
    conn = await RawConnection.open(port)
    rng = random.Random(link["id"])
    try:
        while time.perf_counter() < until:
            expected = watcher.views[link["id"]] + 1
            visitor = f"probe-{secrets.token_hex(6)}"
            status, _, _ = await conn.get(
                f"/v1/public/track-links/{link['token']}?visitorId={visitor}&source=bench"
            )
            answered = time.perf_counter()
            if status != 200:
                phase.probe_failures += 1
                continue
            try:
                seen = await asyncio.wait_for(watcher.expect(link["id"], expected), PROBE_TIMEOUT)
                phase.freshness.append(seen - answered)
            except TimeoutError:
                phase.lost += 1
                phase.lost_detail.append(
                    f"{link['id']}: expected views {expected}, saw {watcher.views[link['id']]}"
                )
                return
            await asyncio.sleep(rng.uniform(0.0, 0.05))  # do not march in step with the poller
    finally:
        conn.close()


async def http_load(
    port: int, tokens: list[str], phase: Phase, until: float, connections: int
) -> None:
    """Open loop: requests are due at `offered`/s whatever the answers; a worker sends each
    when free, and requests more than BACKLOG_SECONDS overdue are dropped, not queued."""
    due: asyncio.Queue[tuple[float, int]] = asyncio.Queue()
    start = time.perf_counter()

    async def worker() -> None:
        conn = await RawConnection.open(port)
        try:
            while True:
                at, n = await due.get()
                if n < 0:
                    return
                if time.perf_counter() - at > BACKLOG_SECONDS:
                    phase.dropped += 1
                    continue
                token = tokens[n % len(tokens)]
                status, _, _ = await conn.get(
                    f"/v1/public/track-links/{token}?visitorId=bg-{n}&source=bench"
                )
                phase.sent += 1
                phase.statuses[status] = phase.statuses.get(status, 0) + 1
                phase.ok += status == 200
        finally:
            conn.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    issued = 0
    while (now := time.perf_counter()) < until:
        while issued < (now - start) * phase.offered:
            due.put_nowait((start + issued / phase.offered, issued))
            issued += 1
        await asyncio.sleep(0.002)
    while not due.empty():  # whatever is still queued was never sent in time
        due.get_nowait()
        phase.dropped += 1
    for _ in workers:
        due.put_nowait((0.0, -1))
    await asyncio.gather(*workers)


async def kafka_load(
    bootstrap: str, links: list[dict[str, str]], org: str, phase: Phase, until: float
) -> None:
    """`share.clicked` for the background links at `offered` events/s, acked by the broker."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    await producer.start()
    start = time.perf_counter()
    try:
        pending = []
        while (now := time.perf_counter()) < until:
            while phase.sent < (now - start) * phase.offered:
                link = links[phase.sent % len(links)]
                env = wrap(
                    ShareClicked(
                        link_id=link["id"],
                        link_kind="track",
                        organization_id=org,
                        visitor=Visitor(visitor_id=f"bg-{phase.sent}", source="bench"),
                    ),
                    producer="bench",
                )
                pending.append(
                    await producer.send(
                        env.topic, env.model_dump_json().encode(), key=env.key.encode()
                    )
                )
                phase.sent += 1
            if len(pending) > 200:
                await asyncio.gather(*pending)
                pending.clear()
            await asyncio.sleep(0.005)
        await asyncio.gather(*pending)
        phase.ok = phase.sent
    finally:
        await producer.stop()


async def run_phase(
    stack: Stack,
    phase: Phase,
    probes: list[dict[str, str]],
    background: list[dict[str, str]],
    poll_ms: float,
    connections: int,
) -> None:
    suite = stack.suite
    watcher = Watcher(
        suite.ports["analytics"], suite.internal_token, [p["id"] for p in probes], poll_ms / 1000
    )
    conn = await RawConnection.open(suite.ports["analytics"])
    await watcher.refresh(conn)  # start from what is already counted
    conn.close()
    stop = asyncio.Event()
    poller = asyncio.create_task(watcher.run(stop))
    start = time.perf_counter()
    until = start + phase.seconds
    if phase.name == "http":
        load = http_load(
            suite.gateway_port, [b["token"] for b in background], phase, until, connections
        )
    else:
        load = kafka_load(suite.infra.kafka_bootstrap, background, stack.org, phase, until)
    load_task = asyncio.create_task(load)
    load_task.add_done_callback(
        lambda _: setattr(phase, "load_seconds", time.perf_counter() - start)
    )
    await asyncio.sleep(min(1.0, phase.seconds / 5))  # probes start once the load is steady
    await asyncio.gather(*(probe(suite.gateway_port, p, watcher, phase, until) for p in probes))
    await load_task
    stop.set()
    await poller
    phase.poll_latency = watcher.latencies


def measure(
    rate: float = 1000.0,
    seconds: float = 15.0,
    n_probes: int = 8,
    poll_ms: float = 10.0,
    connections: int = 64,
    phases: tuple[str, ...] = ("http", "kafka"),
) -> list[Phase]:
    data_dir = ROOT / ".data" / f"bench-{secrets.token_hex(4)}"
    results = [Phase(name, rate, seconds) for name in phases]
    try:
        with running_stack(data_dir) as stack:
            track = stack.upload_track()
            links = [stack.share(track) for _ in range(n_probes + 16)]
            probes, background = links[:n_probes], links[n_probes:]
            for phase in results:
                print(
                    f"freshness: phase {phase.name}, {rate:,.0f}/s for {seconds:.0f} s ...",
                    flush=True,
                )
                asyncio.run(run_phase(stack, phase, probes, background, poll_ms, connections))
    finally:
        if any(p.lost for p in results):
            print(f"freshness: probes were lost; service logs kept in {data_dir / 'logs'}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    return results


def report(results: list[Phase], poll_ms: float) -> None:
    print()
    print(
        "| load | offered/s | achieved/s | probes | freshness p50 ms | p99 ms | max ms | poll RTT p50 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for p in results:
        print(
            f"| {p.name} | {p.offered:,.0f} | {p.achieved:,.0f} | {len(p.freshness)} "
            f"| {median(p.freshness) * 1000:,.0f} | {percentile(p.freshness, 0.99) * 1000:,.0f} "
            f"| {max(p.freshness, default=float('nan')) * 1000:,.0f} | {median(p.poll_latency) * 1000:.1f} |"
        )
    for p in results:
        notes = []
        if p.achieved < 0.95 * p.offered:
            notes.append(f"the offered {p.offered:,.0f}/s was NOT achieved ({p.achieved:,.0f}/s)")
        if p.dropped:
            notes.append(f"{p.dropped:,} requests dropped as more than {BACKLOG_SECONDS} s overdue")
        if p.lost:
            notes.append(
                f"{p.lost} probes not visible within {PROBE_TIMEOUT:.0f} s ({'; '.join(p.lost_detail)})"
            )
        if p.probe_failures:
            notes.append(f"{p.probe_failures} probe opens did not answer 200")
        if set(p.statuses) - {200}:
            notes.append(f"statuses {p.statuses}")
        if notes:
            print(f"{p.name}: " + "; ".join(notes))
    print(
        f"freshness is measured to the poll response that shows the event (poll every {poll_ms:.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=1000.0, help="background load per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument(
        "--probes", type=int, default=8, help="probe links, one probe in flight each"
    )
    parser.add_argument("--poll-ms", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64, help="http phase: load connections")
    parser.add_argument("--phases", default="http,kafka")
    args = parser.parse_args()
    results = measure(
        args.rate,
        args.seconds,
        args.probes,
        args.poll_ms,
        args.connections,
        tuple(args.phases.split(",")),
    )
    report(results, args.poll_ms)
    sys.exit(0 if all(p.freshness and not p.lost for p in results) else 1)


if __name__ == "__main__":
    main()
