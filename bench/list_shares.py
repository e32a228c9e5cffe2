"""List my shares: latency and database round trips of `GET /v1/music/{org}/shares` with
1,000 links and 1,000,000 engagement events behind them (target p99 < 50 ms).

Setup, through the real pipeline: the links are created through the gateway (so sharing
publishes them and analytics registers them); the events are produced straight onto the
engagement topics with the contracts' models and those real link ids (60 % plays, 30 %
opens, 7 % downloads, 3 % re-shares, Zipf-skewed over the links, 100,000 visitors), and
the analytics service ingests them as in production. Nothing is written to analytics'
tables by the benchmark. Before measuring, it checks that the API's counters add up to
exactly the events sent, and its unique visitors to exactly the (link, visitor) pairs sent.

Then one keep-alive connection sends requests one after another (latency, not throughput),
walking the pages from newest to oldest, with the default page size (20) and with
limit=100, and reads `X-Encore-DB-Statements` from each response. It also times the two
internal calls the gateway makes (sharing's page, analytics' stats for its links), and
when the p99 misses the target, prints EXPLAIN ANALYZE of the analytics query.

    uv run python bench/list_shares.py [--events 1000000] [--links 1000] [--requests 300]
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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).parent))
from figures import Figure, median, percentile
from rawhttp import RawConnection
from stack import ROOT, Stack, running_stack

from contracts.events import (
    EventEnvelope,
    Payload,
    ShareClicked,
    ShareRecorded,
    TrackDownloaded,
    TrackPlayed,
    Visitor,
    wrap,
)
from servicekit.internal import INTERNAL_TOKEN_HEADER

TARGET_P99 = 0.050
KINDS = [(TrackPlayed, 0.60), (ShareClicked, 0.30), (TrackDownloaded, 0.07), (ShareRecorded, 0.03)]
VISITORS = 100_000


@dataclass
class PageRun:
    limit: int | None  # None: the API's default page size
    latencies: list[float] = field(default_factory=list)
    statements: Counter[int] = field(default_factory=Counter)
    sharing: list[float] = field(default_factory=list)
    analytics: list[float] = field(default_factory=list)

    @property
    def label(self) -> str:
        return "default page (20)" if self.limit is None else f"limit={self.limit}"

    def figure(self, links: int, events: int) -> Figure:
        statements = "/".join(str(s) for s in sorted(self.statements))
        return Figure(
            f"list my shares, {self.label}",
            f"p50 {median(self.latencies) * 1000:.1f} ms, p99 {percentile(self.latencies, 0.99) * 1000:.1f} ms,"
            f" {statements} DB statements per request ({links:,} links, {events:,} events)",
            "p99 < 50 ms",
            percentile(self.latencies, 0.99) < TARGET_P99,
        )


def events_for(
    links: list[dict[str, str]], org: str, n: int, pairs: set[tuple[str, str]], seed: int = 11
) -> Iterator[EventEnvelope[Payload]]:
    """The events, recording each (link, visitor) pair sent in `pairs`."""
    rng = random.Random(seed)
    order = links[:]
    rng.shuffle(order)  # which links are popular has nothing to do with their page
    weights = [1 / (i + 1) ** 0.8 for i in range(len(order))]
    kinds, kind_w = zip(*KINDS, strict=True)
    for _ in range(n):
        link = rng.choices(order, weights)[0]
        kind = rng.choices(kinds, kind_w)[0]
        visitor = Visitor(visitor_id=f"v{rng.randrange(VISITORS)}", source="bench")
        pairs.add((link["id"], visitor.visitor_id or ""))
        common: dict[str, Any] = {
            "link_id": link["id"],
            "link_kind": "track",
            "organization_id": org,
            "visitor": visitor,
        }
        payload: Payload
        if kind is TrackPlayed:
            payload = TrackPlayed(track_id=link["track_id"], duration_seconds=3.0, **common)
        elif kind is TrackDownloaded:
            payload = TrackDownloaded(track_id=link["track_id"], **common)
        elif kind is ShareRecorded:
            payload = ShareRecorded(channel="sms", track_id=link["track_id"], **common)
        else:
            payload = ShareClicked(track_id=link["track_id"], **common)
        yield wrap(payload, producer="bench")


async def produce(bootstrap: str, events: Iterator[EventEnvelope[Payload]], n: int) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024
    )
    await producer.start()
    start = time.perf_counter()
    try:
        pending = []
        for i, env in enumerate(events, 1):
            pending.append(
                await producer.send(env.topic, env.model_dump_json().encode(), key=env.key.encode())
            )
            if len(pending) >= 5_000:
                await asyncio.gather(*pending)
                pending.clear()
            if i % 100_000 == 0:
                print(f"  produced {i:,} of {n:,}", flush=True)
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return n / (time.perf_counter() - start)


async def wait_ingested(database_url: str, n: int, limit_seconds: float) -> float:
    """Until analytics' counters hold all n events (a read of its table, only to know when
    to start measuring; the API is checked separately)."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    start = time.perf_counter()
    try:
        while True:
            done = await conn.fetchval(
                "select coalesce(sum(views + plays + downloads + reshares), 0)"
                " from analytics.link_stats"
            )
            if done >= n:
                return time.perf_counter() - start
            if time.perf_counter() - start > limit_seconds:
                raise TimeoutError(f"analytics applied {done:,} of {n:,} in {limit_seconds:.0f} s")
            await asyncio.sleep(1.0)
    finally:
        await conn.close()


async def create_links(stack: Stack, n: int, tracks: list[str]) -> list[dict[str, str]]:
    """n track links through the gateway, 8 at a time."""
    gate = asyncio.Semaphore(8)

    async def one(client: httpx.AsyncClient, i: int) -> dict[str, str]:
        track = tracks[i % len(tracks)]
        async with gate:
            response = await client.post(
                f"/v1/music/{stack.org}/tracks/{track}/share", headers=stack.headers
            )
        response.raise_for_status()
        return {"id": response.json()["id"], "track_id": track}

    async with httpx.AsyncClient(base_url=stack.suite.gateway_url, timeout=30) as client:
        return list(await asyncio.gather(*(one(client, i) for i in range(n))))


def counted_through_api(stack: Stack) -> tuple[int, int, int]:
    """Links listed, the sum of their counters and of their unique visitors, read page by
    page from the public API."""
    listed, total, uniques, offset = 0, 0, 0, 0
    while True:
        page = stack.api.get(
            f"/v1/music/{stack.org}/shares",
            params={"limit": 100, "offset": offset},
            headers=stack.headers,
        ).json()
        for item in page["items"]:
            s = item["stats"]
            total += s["views"] + s["plays"] + s["downloads"] + s["reshares"]
            uniques += s["unique_visitors"]
        listed += len(page["items"])
        offset += 100
        if offset >= page["total"]:
            return listed, total, uniques


async def measure_pages(stack: Stack, run: PageRun, links: int, requests: int) -> None:
    suite = stack.suite
    size = run.limit or 20
    gateway = await RawConnection.open(suite.gateway_port)
    sharing = await RawConnection.open(suite.ports["sharing"])
    analytics = await RawConnection.open(suite.ports["analytics"])
    internal = {INTERNAL_TOKEN_HEADER: suite.internal_token}
    auth = {"X-API-Key": stack.headers["X-API-Key"]}
    try:
        for i in range(requests + 10):
            offset = (i * size) % links
            query = f"offset={offset}" + (f"&limit={run.limit}" if run.limit else "")
            start = time.perf_counter()
            status, headers, body = await gateway.get(f"/v1/music/{stack.org}/shares?{query}", auth)
            took = time.perf_counter() - start
            if status != 200:
                raise RuntimeError(f"shares answered {status}: {body[:200]!r}")
            if i < 10:
                continue  # warm-up: connections, statement caches
            run.latencies.append(took)
            run.statements[int(headers["x-encore-db-statements"])] += 1
            # the gateway's two hops, timed alone on the same page
            start = time.perf_counter()
            _, _, page = await sharing.get(
                f"/internal/orgs/{stack.org}/shares?limit={size}&offset={offset}", internal
            )
            run.sharing.append(time.perf_counter() - start)
            ids = ",".join(item["id"] for item in json.loads(page)["items"])
            start = time.perf_counter()
            await analytics.get(f"/internal/stats/links?ids={ids}", internal)
            run.analytics.append(time.perf_counter() - start)
    finally:
        for conn in (gateway, sharing, analytics):
            conn.close()


async def explain(database_url: str, link_ids: list[str]) -> str:
    """EXPLAIN ANALYZE of the statement analytics runs for one page of stats."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch(
            "explain (analyze, buffers) select wanted.link_id,"
            " coalesce(s.views, 0), coalesce(s.plays, 0), coalesce(s.downloads, 0),"
            " coalesce(s.reshares, 0), coalesce(s.unique_visitors, 0)"
            " from unnest($1::text[]) as wanted(link_id)"
            " left outer join analytics.link_stats s on s.link_id = wanted.link_id",
            link_ids,
        )
    finally:
        await conn.close()
    return "\n".join(r[0] for r in rows)


@dataclass
class Result:
    links: int
    events: int
    runs: list[PageRun]
    load_seconds: float
    produced_rate: float
    listed: int
    counted: int
    visitors_sent: int
    visitors_counted: int
    plans: list[str]

    @property
    def exact(self) -> bool:
        return (
            self.listed == self.links
            and self.counted == self.events
            and self.visitors_counted == self.visitors_sent
        )

    def figures(self) -> list[Figure]:
        return [r.figure(self.links, self.events) for r in self.runs]


def measure(links: int = 1000, events: int = 1_000_000, requests: int = 300) -> Result:
    data_dir = ROOT / ".data" / f"bench-{secrets.token_hex(4)}"
    try:
        # a zero dedupe window makes every play count, so the totals can be checked exactly
        with running_stack(data_dir, {"ENCORE_PLAY_DEDUPE_WINDOW_SECONDS": "0"}) as stack:
            start = time.perf_counter()
            tracks = [stack.upload_track(f"t{i}") for i in range(10)]
            print(f"list_shares: creating {links:,} links ...", flush=True)
            made = asyncio.run(create_links(stack, links, tracks))
            print(f"list_shares: producing {events:,} events onto Kafka ...", flush=True)
            pairs: set[tuple[str, str]] = set()
            rate = asyncio.run(
                produce(
                    stack.infra.kafka_bootstrap, events_for(made, stack.org, events, pairs), events
                )
            )
            asyncio.run(wait_ingested(stack.infra.database_url, events, max(300, events / 1000)))
            load_seconds = time.perf_counter() - start
            listed, counted, visitors = counted_through_api(stack)
            print(
                f"list_shares: loaded in {load_seconds:.0f} s; the API lists {listed:,} links"
                f" holding {counted:,} events and {visitors:,} unique visitors",
                flush=True,
            )
            runs = [PageRun(None), PageRun(100)]
            for run in runs:
                asyncio.run(measure_pages(stack, run, links, requests))
            plans = []
            if any(percentile(r.latencies, 0.99) >= TARGET_P99 for r in runs):
                page = [m["id"] for m in made[-100:]]
                plans.append(asyncio.run(explain(stack.infra.database_url, page)))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return Result(
        links, events, runs, load_seconds, rate, listed, counted, len(pairs), visitors, plans
    )


def report(result: Result) -> None:
    print()
    print(
        f"{result.links:,} links, {result.events:,} events (produced at {result.produced_rate:,.0f}/s,"
        f" everything ingested {result.load_seconds:.0f} s after the start of the setup)"
    )
    print(
        "| page | requests | p50 ms | p99 ms | DB statements | sharing hop p50 ms | analytics hop p50 / p99 ms |"
    )
    print("|---|---:|---:|---:|---|---:|---:|")
    for r in result.runs:
        print(
            f"| {r.label} | {len(r.latencies)} | {median(r.latencies) * 1000:.1f} "
            f"| {percentile(r.latencies, 0.99) * 1000:.1f} | {dict(r.statements)} "
            f"| {median(r.sharing) * 1000:.1f} "
            f"| {median(r.analytics) * 1000:.1f} / {percentile(r.analytics, 0.99) * 1000:.1f} |"
        )
    print(
        f"the API's counters add up to the events sent: {'yes' if result.exact else 'NO'}"
        f" ({result.counted:,} of {result.events:,}, {result.listed:,} links;"
        f" unique visitors {result.visitors_counted:,} of {result.visitors_sent:,})"
    )
    for plan in result.plans:
        print("\np99 missed; EXPLAIN ANALYZE of analytics' stats query for 100 links:")
        print(plan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300, help="measured requests per page size")
    args = parser.parse_args()
    result = measure(args.links, args.events, args.requests)
    report(result)
    sys.exit(0 if result.exact else 1)


if __name__ == "__main__":
    main()
