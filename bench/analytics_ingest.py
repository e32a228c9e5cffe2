"""Analytics ingest benchmark: how fast engagement events become aggregates.

Loads N events (default 200,000; mixed types, Zipf-skewed links and tracks) into the real
broker, then measures in the same run:
  (a) a raw aiokafka consumer that only reads them (the ceiling),
  (b) a naive consumer applying one event per transaction (the baseline),
  (c) the real analytics service process (batched, set-based, exactly once in effect),
and prints events/s for each with the ratios c/b and c/a, then checks that the final
aggregates of (c) equal what was sent. Rates are measured from the first record handled
to the last, so consumer-group join time is not counted for any of them.

    uv run python bench/analytics_ingest.py [--events N] [--naive-seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).parent))
from figures import Figure

from analytics.db.apply import apply_batch
from analytics.domain.events import decode
from contracts import topics
from contracts.events import (
    EventEnvelope,
    PackViewed,
    Payload,
    ShareClicked,
    ShareRecorded,
    TrackDownloaded,
    TrackPlayed,
    Visitor,
    wrap,
)
from devstack import processes
from devstack.infra import start_infrastructure
from devstack.suite import migrate_all
from servicekit.db import make_engine, make_sessionmaker
from servicekit.kafka import ensure_topics

ROOT = Path(__file__).resolve().parents[1]
TYPES = [
    (TrackPlayed, 0.60),
    (ShareClicked, 0.25),
    (PackViewed, 0.08),
    (TrackDownloaded, 0.05),
    (ShareRecorded, 0.02),
]


def zipf_choice(rng: random.Random, items: list[str], weights: list[float]) -> str:
    return rng.choices(items, weights)[0]


def make_events(n: int, seed: int = 7) -> list[EventEnvelope[Payload]]:
    rng = random.Random(seed)
    links = [f"mslink_{i:06d}" for i in range(2_000)]
    link_w = [1 / (i + 1) ** 1.1 for i in range(len(links))]  # a few links get most traffic
    tracks = [f"mtrack_{i:05d}" for i in range(500)]
    track_w = [1 / (i + 1) for i in range(len(tracks))]
    kinds, kind_w = zip(*TYPES, strict=True)
    events: list[EventEnvelope[Payload]] = []
    for _ in range(n):
        kind = rng.choices(kinds, kind_w)[0]
        link = zipf_choice(rng, links, link_w)
        visitor = Visitor(
            visitor_id=f"v{rng.randrange(50_000)}",
            session_id=f"s{rng.randrange(80_000)}",
            source=rng.choice(["twitter", "email", "pack_link"]),
        )
        common: dict[str, Any] = {
            "link_id": link,
            "link_kind": "track",
            "organization_id": "org_bench",
            "visitor": visitor,
        }
        track = zipf_choice(rng, tracks, track_w)
        payload: Payload
        if kind is TrackPlayed:
            payload = TrackPlayed(track_id=track, duration_seconds=180.0, **common)
        elif kind is TrackDownloaded:
            payload = TrackDownloaded(track_id=track, **common)
        elif kind is PackViewed:
            payload = PackViewed(pack_id="mpack_bench", **{**common, "link_kind": "pack"})
        elif kind is ShareRecorded:
            payload = ShareRecorded(channel="sms", **common)
        else:
            payload = ShareClicked(**common)
        events.append(wrap(payload, producer="bench"))
    return events


def expected_aggregates(
    events: list[EventEnvelope[Payload]],
) -> dict[str, tuple[int, int, int, int, int]]:
    counters = {
        TrackPlayed: "plays",
        ShareClicked: "views",
        PackViewed: "views",
        TrackDownloaded: "downloads",
        ShareRecorded: "reshares",
    }
    per_link: dict[str, Counter[str]] = defaultdict(Counter)
    visitors: dict[str, set[str]] = defaultdict(set)
    for env in events:
        link = env.payload.link_id  # type: ignore[attr-defined]
        per_link[link][counters[type(env.payload)]] += 1
        visitors[link].add(env.payload.visitor.visitor_id)  # type: ignore[attr-defined]
    return {
        link: (c["views"], c["plays"], c["downloads"], c["reshares"], len(visitors[link]))
        for link, c in per_link.items()
    }


async def produce(bootstrap: str, events: list[EventEnvelope[Payload]]) -> float:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024
    )
    await producer.start()
    start = time.perf_counter()
    try:
        pending = []
        for env in events:
            pending.append(
                await producer.send(env.topic, env.model_dump_json().encode(), key=env.key.encode())
            )
            if len(pending) >= 5_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return len(events) / (time.perf_counter() - start)


def consumer(bootstrap: str, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics.ENGAGEMENT_TOPICS,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        fetch_max_wait_ms=20,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )


async def raw_read(bootstrap: str, n: int) -> float:
    """(a): read every record, do nothing with it."""
    reader = consumer(bootstrap, f"bench-raw-{uuid.uuid4().hex}")
    await reader.start()
    seen, first = 0, 0.0
    try:
        while seen < n:
            batch = await reader.getmany(timeout_ms=200, max_records=10_000)
            count = sum(len(r) for r in batch.values())
            if count and not first:
                first = time.perf_counter()
            seen += count
    finally:
        await reader.stop()
    return n / (time.perf_counter() - first)


async def naive(bootstrap: str, database_url: str, seconds: float) -> tuple[float, int]:
    """(b): the same rules, one event per transaction, committing the offset each time."""
    reader = consumer(bootstrap, f"bench-naive-{uuid.uuid4().hex}")
    engine = make_engine(database_url, pool_size=2)
    sessions = make_sessionmaker(engine)
    await reader.start()
    applied, first = 0, 0.0
    try:
        while not first or time.perf_counter() - first < seconds:
            batch = await reader.getmany(timeout_ms=200, max_records=100)
            for tp, records in batch.items():
                for record in records:
                    first = first or time.perf_counter()
                    async with sessions() as session, session.begin():
                        await apply_batch(session, [decode(record.value or b"")], window_seconds=0)
                    await reader.commit({tp: record.offset + 1})
                    applied += 1
    finally:
        await reader.stop()
        await engine.dispose()
    return applied / (time.perf_counter() - first), applied


async def real_service(
    infra_env: dict[str, str], database_url: str, n: int, log_dir: Path
) -> float:
    """(c): the analytics service as deployed, in its own process, on a fresh group."""
    port, ops_port = processes.free_port(), processes.free_port()
    env = processes.child_env(
        {
            **infra_env,
            "ENCORE_ENV": "dev",
            "ENCORE_OPS_HOST": "127.0.0.1",
            "ENCORE_OPS_PORT": str(ops_port),
            "ENCORE_DATABASE_URL": database_url,
            "ENCORE_CONSUMER_GROUP": f"bench-real-{uuid.uuid4().hex}",
            "ENCORE_PLAY_DEDUPE_WINDOW_SECONDS": "0",
            "ENCORE_LOG_LEVEL": "WARNING",
            **(
                {"ENCORE_CONSUMER_BATCH_SIZE": os.environ["BENCH_BATCH"]}
                if "BENCH_BATCH" in os.environ
                else {}
            ),
        }
    )
    proc = processes.spawn(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "analytics.app:create_app",
            "--factory",
            "--port",
            str(port),
            "--no-access-log",
        ],
        log_path=log_dir / "bench-analytics.log",
        env=env,
    )
    metrics_url = f"http://127.0.0.1:{ops_port}/metrics"  # the ops port (servicekit.ops)
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            first, first_done = 0.0, 0.0
            while True:
                # progress from the service's own counter: polling a table would cost its
                # Postgres a scan of a growing table every time
                try:
                    metrics = (await client.get(metrics_url)).text
                except httpx.TransportError:
                    metrics = ""
                done = _metric(metrics, "encore_analytics_events_applied_total")
                now = time.perf_counter()
                if done and not first:
                    first, first_done = now, done
                if done >= n:
                    rate = (n - first_done) / (now - first)
                    batches = _metric(metrics, "encore_analytics_batch_seconds_count")
                    seconds = _metric(metrics, "encore_analytics_batch_seconds_sum")
                    if batches:
                        print(
                            f"(c) {batches:,.0f} batches, {n / batches:,.0f} events and {seconds / batches * 1000:.1f} ms each in the database",
                            flush=True,
                        )
                    return float(rate)
                if proc.poll() is not None:
                    raise RuntimeError("analytics exited; see bench-analytics.log")
                await asyncio.sleep(0.1)
    finally:
        processes.stop(proc)


def _metric(text: str, name: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + " ") or line.startswith(name + "{")
    )


async def check(database_url: str, events: list[EventEnvelope[Payload]]) -> tuple[bool, int]:
    expected = expected_aggregates(events)
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await conn.fetch(
            "select s.link_id, s.views, s.plays, s.downloads, s.reshares,"
            " s.unique_visitors as uniques"
            " from analytics.link_stats s"
        )
    finally:
        await conn.close()
    actual = {
        r["link_id"]: (r["views"], r["plays"], r["downloads"], r["reshares"], r["uniques"])
        for r in rows
    }
    mismatched = sum(
        1 for link in expected.keys() | actual.keys() if expected.get(link) != actual.get(link)
    )
    return mismatched == 0, mismatched


async def create_database(admin_url: str, name: str) -> str:
    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'create database "{name}"')
    finally:
        await conn.close()
    base, _, query = admin_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


@dataclass
class Result:
    events: int
    raw: float
    naive: float
    real: float
    exact: bool

    def figures(self) -> list[Figure]:
        c_b, c_a = self.real / self.naive, self.real / self.raw
        return [
            Figure(
                "analytics ingest: service vs naive (c/b)",
                f"c/b = {c_b:,.1f} (c {self.real:,.0f} events/s, b {self.naive:,.0f})",
                ">= 50",
                c_b >= 50,
            ),
            Figure(
                "analytics ingest: service vs raw read (c/a)",
                f"c/a = {c_a:.3f} (a {self.raw:,.0f} events/s)",
                ">= 0.1",
                c_a >= 0.1,
            ),
            Figure(
                "analytics ingest: aggregates",
                f"{'equal' if self.exact else 'DIFFER from'} what was sent ({self.events:,} events)",
                "exact",
                self.exact,
            ),
        ]


async def run(args: argparse.Namespace) -> Result:
    data_dir = ROOT / ".data" / f"bench-{secrets.token_hex(4)}"
    infra = start_infrastructure(data_dir, persistent=False)
    try:
        await ensure_topics(infra.kafka_bootstrap, topics.ALL_TOPICS_WITH_DLQ)
        naive_db = await create_database(infra.database_url, "bench_naive")
        real_db = await create_database(infra.database_url, "bench_real")
        for url in (naive_db, real_db):
            migrate_all(url)
        print(f"generating {args.events:,} events ...", flush=True)
        events = make_events(args.events)
        produced = await produce(infra.kafka_bootstrap, events)
        print(f"produced at {produced:,.0f} events/s", flush=True)
        raw = await raw_read(infra.kafka_bootstrap, args.events)
        naive_rate, naive_count = await naive(infra.kafka_bootstrap, naive_db, args.naive_seconds)
        real = await real_service(infra.env(), real_db, args.events, data_dir)
        ok, mismatched = await check(real_db, events)
        print()
        print("| consumer | events/s | note |")
        print("|---|---:|---|")
        print(f"| (a) raw aiokafka read | {raw:,.0f} | reads only |")
        print(
            f"| (b) naive, 1 event per transaction | {naive_rate:,.0f} | {naive_count:,} events in {args.naive_seconds:.0f} s |"
        )
        print(f"| (c) analytics service | {real:,.0f} | {args.events:,} events, batched |")
        print()
        print(f"c/b = {real / naive_rate:,.1f}  (target >= 50)")
        print(f"c/a = {real / raw:.2f}  (target >= 0.1)")
        print(
            f"aggregates equal what was sent: {'yes' if ok else f'NO, {mismatched} links differ'}"
        )
        return Result(args.events, raw, naive_rate, real, ok)
    finally:
        infra.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--naive-seconds", type=float, default=15.0)
    sys.exit(0 if asyncio.run(run(parser.parse_args())).exact else 1)


if __name__ == "__main__":
    main()
