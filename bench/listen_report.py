"""A link report with listen depth over 1,000,000 beacons: latency and database statements
of `GET /v1/music/{org}/shares/{link}/analytics` (target p99 < 50 ms, a fixed number of
statements).

Setup, by SQL (generate_series, seconds instead of the hours a million beacons through the
gateway would take): one real link made through the gateway, then in analytics' tables
what ingest would have left after `--plays` plays of `--beacons-per-play` beacons each
(default 20,000 x 50 = 1,000,000 beacons) by `--listeners` visitors over 30 days: one claim
per beacon, one row per play (two heard ranges each), the daily listening counters, each
listener's union per track and the link's counters, all computed from those plays, and one
`track.played` fact per play plus one view per listener (the facts a real player would have
caused), with their rollups (daily counters and uniques) rebuilt by analytics' own statements. Before measuring, it checks that
the report's numbers equal the seeded plays', and that the all-time listener depth (from the
kept unions) equals the one a range computes from the plays themselves.

Then one keep-alive connection asks for the report one request after another (latency, not
throughput), all-time and for the last 7 days, reading `X-Encore-DB-Statements`.

    uv run python bench/listen_report.py [--plays 20000] [--beacons-per-play 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).parent))
from figures import Figure, median, percentile, table
from rawhttp import RawConnection
from stack import ROOT, Stack, running_stack

from analytics.db.rollups import rebuild_statements

TARGET_P99 = 0.050
DAYS = 30

SEED_PLAYS = """
    insert into analytics.plays (track_id, listener_key, play_id, link_id, link_kind,
      organization_id, visitor_key, session_id, source, browser, os, device_class,
      started_at, last_heard_at, duration_seconds, heard, seconds_heard, furthest_seconds,
      qualified)
    select $1, 'v:bench' || (i % $4), 'p' || i, $2, 'track', $3, 'v:bench' || (i % $4),
      's' || i, 'bench', 'Chrome', 'Mac OS X', 'desktop', at, at, 180,
      nummultirange(numrange(0, h), numrange(h + 20, h + 30)), h + 10, h + 30, h + 10 >= 30
    from generate_series(1, $5) as i,
      lateral (select (i * 37) % 140 + 5 as h,
        $6::timestamptz + (i % $7) * interval '1 day' + (i % 80000) * interval '1 second' as at) v
    order by 1, 2, 3"""
SEED_CLAIMS = """
    insert into analytics.applied_beacons (event_id)
    select gen_random_uuid() from generate_series(1, $1)"""
SEED_DAILY = """
    insert into analytics.listening_daily (scope, scope_id, day, play_starts, depth_plays,
      qualified_plays, seconds_heard, reached_25, reached_50, reached_75, reached_100)
    select s.scope, s.scope_id, (started_at at time zone 'UTC')::date, count(*), count(*),
      count(*) filter (where qualified), sum(seconds_heard),
      count(*) filter (where seconds_heard >= 45), count(*) filter (where seconds_heard >= 90),
      count(*) filter (where seconds_heard >= 135),
      count(*) filter (where seconds_heard >= 179.5)
    from analytics.plays p
    cross join lateral (values ('link', p.link_id), ('track', p.track_id)) as s(scope, scope_id)
    where p.link_id = $1
    group by 1, 2, 3"""
SEED_LISTENERS = """
    insert into analytics.listener_tracks (scope, scope_id, track_id, listener_key, plays,
      heard, furthest_seconds, duration_seconds)
    select s.scope, s.scope_id, p.track_id, p.listener_key, count(*), range_agg(p.heard),
      max(p.furthest_seconds), max(p.duration_seconds)
    from analytics.plays p
    cross join lateral (values ('link', p.link_id), ('track', p.track_id)) as s(scope, scope_id)
    where p.link_id = $1
    group by 1, 2, 3, 4"""
SEED_FACTS = """
    insert into analytics.engagement_facts (event_id, type, link_id, link_kind, track_id,
      organization_id, session_id, visitor_key, listener_key, counted, source, occurred_at,
      browser, os, device_class)
    select gen_random_uuid(), 'track.played', link_id, link_kind, track_id, organization_id,
      session_id, visitor_key, listener_key, true, source, started_at, browser, os,
      device_class
    from analytics.plays where link_id = $1
    union all
    select gen_random_uuid(), 'share.clicked', link_id, link_kind, track_id, organization_id,
      min(session_id), visitor_key, null, true, 'bench', min(started_at), 'Chrome', 'Mac OS X',
      'desktop'
    from analytics.plays where link_id = $1
    group by link_id, link_kind, track_id, organization_id, visitor_key"""
SEED_LINK_STATS = """
    insert into analytics.link_stats (link_id, views, plays, qualified_plays, unique_visitors)
    select $1, count(distinct visitor_key), count(*), count(*) filter (where qualified),
      count(distinct visitor_key)
    from analytics.plays where link_id = $1
    on conflict (link_id) do update set views = excluded.views, plays = excluded.plays,
      qualified_plays = excluded.qualified_plays, unique_visitors = excluded.unique_visitors"""
EXPECTED = """
    select count(*) as plays, count(*) filter (where qualified) as qualified,
      round((avg(seconds_heard))::numeric, 1)::float8 as average
    from analytics.plays where link_id = $1"""


@dataclass
class Run:
    label: str
    query: str
    latencies: list[float] = field(default_factory=list)
    statements: Counter[int] = field(default_factory=Counter)

    def figure(self, beacons: int, plays: int) -> Figure:
        statements = "/".join(str(s) for s in sorted(self.statements))
        p99 = percentile(self.latencies, 0.99)
        return Figure(
            f"link report with depth, {self.label}",
            f"p50 {median(self.latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms,"
            f" {statements} DB statements per request ({beacons:,} beacons, {plays:,} plays)",
            "p99 < 50 ms, fixed statements",
            p99 < TARGET_P99 and len(self.statements) == 1,
        )


@dataclass
class Result:
    beacons: int
    plays: int
    seed_seconds: float
    exact: bool
    runs: list[Run]

    def figures(self) -> list[Figure]:
        return [r.figure(self.beacons, self.plays) for r in self.runs]


async def seed(stack: Stack, link: dict[str, str], args: argparse.Namespace) -> bool:
    """The tables as ingest would have left them; True when the report agrees with them."""
    url = stack.infra.database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    try:
        start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        first_day = start - timedelta(days=DAYS - 1)
        await conn.execute(
            SEED_PLAYS,
            link["track_id"],
            link["id"],
            stack.org,
            args.listeners,
            args.plays,
            first_day,
            DAYS,
        )
        await conn.execute(SEED_CLAIMS, args.plays * args.beacons_per_play)
        await conn.execute(SEED_DAILY, link["id"])
        await conn.execute(SEED_LISTENERS, link["id"])
        await conn.execute(SEED_FACTS, link["id"])
        await conn.execute(SEED_LINK_STATS, link["id"])
        async with conn.transaction():  # the facts' rollups, as ingest keeps them
            for statement in rebuild_statements():
                await conn.execute(statement)
        await conn.execute("analyze")
        expected = await conn.fetchrow(EXPECTED, link["id"])
    finally:
        await conn.close()
    url = f"/v1/music/{stack.org}/shares/{link['id']}/analytics"
    report = stack.api.get(url, headers=stack.headers).json()
    ranged = stack.api.get(
        url, headers=stack.headers, params={"from": first_day.date().isoformat()}
    ).json()
    listening = report["listening"]
    print(f"listen_report: report says {json.dumps(listening)}; seeded {dict(expected)}")
    return bool(
        listening["play_starts"] == expected["plays"]
        and listening["qualified_plays"] == expected["qualified"]
        and abs(listening["average_seconds_heard"] - expected["average"]) < 0.11
        and len(report["listener_depth"]) == min(100, args.listeners)
        and report["listener_depth"] == ranged["listener_depth"]  # kept unions = the plays'
    )


async def measure_run(stack: Stack, run: Run, requests: int) -> None:
    gateway = await RawConnection.open(stack.suite.gateway_port)
    auth = {"X-API-Key": stack.headers["X-API-Key"]}
    try:
        for i in range(requests + 10):
            start = time.perf_counter()
            status, headers, body = await gateway.get(run.query, auth)
            took = time.perf_counter() - start
            if status != 200:
                raise RuntimeError(f"report answered {status}: {body[:200]!r}")
            if i < 10:
                continue  # warm-up
            run.latencies.append(took)
            run.statements[int(headers["x-encore-db-statements"])] += 1
    finally:
        gateway.close()


async def profile(database_url: str, link_id: str) -> list[tuple[float, str]]:
    """Each statement of one link report, timed in this process: where the time goes."""
    from sqlalchemy import event

    from analytics.db.stats import Scope
    from analytics.service.reports import scope_activity
    from servicekit.db import make_engine, make_sessionmaker

    engine = make_engine(database_url, pool_size=1)
    timings: list[tuple[float, str]] = []
    started: list[float] = []

    def before(*_: object) -> None:
        started.append(time.perf_counter())

    def after(_conn: object, _cursor: object, statement: str, *rest: object) -> None:
        timings.append((time.perf_counter() - started.pop(), " ".join(statement.split())[:160]))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    try:
        for _ in range(3):  # warm, then keep the last run's timings
            timings.clear()
            async with make_sessionmaker(engine)() as session:
                await scope_activity(session, Scope("link_id", link_id, None, None))
    finally:
        await engine.dispose()
    return timings


def measure(args: argparse.Namespace) -> Result:
    data_dir = ROOT / ".data" / f"bench-{secrets.token_hex(4)}"
    try:
        with running_stack(data_dir) as stack:
            track = stack.upload_track("listened")
            link = {"id": stack.share(track)["id"], "track_id": track}
            beacons = args.plays * args.beacons_per_play
            print(f"listen_report: seeding {beacons:,} beacons in {args.plays:,} plays ...")
            started = time.perf_counter()
            exact = asyncio.run(seed(stack, link, args))
            seed_seconds = time.perf_counter() - started
            base = f"/v1/music/{stack.org}/shares/{link['id']}/analytics"
            week = (datetime.now(UTC).date() - timedelta(days=6)).isoformat()
            runs = [Run("all time", base), Run("last 7 days", f"{base}?from={week}")]
            for run in runs:
                asyncio.run(measure_run(stack, run, args.requests))
            if args.profile or any(percentile(r.latencies, 0.99) >= TARGET_P99 for r in runs):
                for seconds, statement in asyncio.run(
                    profile(stack.infra.database_url, link["id"])
                ):
                    print(f"  {seconds * 1000:7.1f} ms  {statement}")
            return Result(beacons, args.plays, seed_seconds, exact, runs)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--plays", type=int, default=20_000)
    parser.add_argument("--beacons-per-play", type=int, default=50)
    parser.add_argument("--listeners", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="time each statement")
    result = measure(parser.parse_args())
    print(f"seeded in {result.seed_seconds:.0f} s; report equals the seeded plays: {result.exact}")
    print(table(result.figures()))
    sys.exit(0 if result.exact else 1)


if __name__ == "__main__":
    main()
