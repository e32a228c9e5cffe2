"""Operator-facing promises: the CLI, migrations in their own schemas, health, the ladder."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devstack.infra import Infrastructure, start_infrastructure
from devstack.suite import SERVICES, Suite
from tests.conftest import Artist, eventually, run_sql, upload
from tests.otlp import Collector, ExportedSpan


def test_cli_creates_a_user_whose_key_works(suite: Suite, api: httpx.Client) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "users",
            "create",
            "--handle",
            "cli-user",
            "--display-name",
            "CLI User",
        ],
        env={**os.environ, "ENCORE_DATABASE_URL": suite.infra.database_url},
        capture_output=True,
        text=True,
        check=True,
    )
    created = json.loads(result.stdout)
    assert created["user_id"].startswith("usr_")
    assert created["organization_id"].startswith("org_")
    assert created["api_key"].startswith("sk_")
    me = api.get("/v1/me", headers={"X-API-Key": created["api_key"]}).json()
    assert me["handle"] == "cli-user" and me["organizations"][0]["id"] == created["organization_id"]
    again = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "users", "create", "--handle", "cli-user"],
        env={**os.environ, "ENCORE_DATABASE_URL": suite.infra.database_url},
        capture_output=True,
        text=True,
    )
    assert again.returncode == 1 and "CONFLICT" in again.stderr


def test_each_service_has_its_schema_and_version_table(suite: Suite) -> None:
    async def check() -> dict[str, str]:
        url = suite.infra.database_url.replace("postgresql+asyncpg://", "postgresql://")
        conn = await asyncpg.connect(url)
        try:
            versions = {}
            for schema in SERVICES:
                query = f'select version_num from "{schema}".alembic_version'  # noqa: S608
                versions[schema] = await conn.fetchval(query)
            return versions
        finally:
            await conn.close()

    versions = asyncio.run(check())
    assert all(versions[s] for s in SERVICES)


def test_every_service_reports_live_and_ready(suite: Suite) -> None:
    for service in SERVICES:
        assert httpx.get(suite.url(service) + "/health/live").json() == {"status": "ok"}
        ready = httpx.get(suite.ops_url(service) + "/health/ready")
        assert ready.status_code == 200 and ready.json()["status"] == "ok", ready.text


def test_the_ladder_takes_urls_from_the_environment_first(
    infra: Infrastructure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENCORE_DATABASE_URL", infra.database_url)
    monkeypatch.setenv("ENCORE_KAFKA_BOOTSTRAP", infra.kafka_bootstrap)
    monkeypatch.setenv("ENCORE_S3_ENDPOINT", infra.s3_endpoint)
    monkeypatch.setenv("ENCORE_REDIS_URL", infra.redis_url)
    found = start_infrastructure(tmp_path, persistent=False)
    try:
        assert found.sources == {
            "postgres": "environment",
            "kafka": "environment",
            "s3": "environment",
            "redis": "environment",
        }
        assert found.database_url == infra.database_url
        assert found.redis_url == infra.redis_url
        assert not list(tmp_path.iterdir()), "nothing was started, so nothing was written"
    finally:
        found.close()


def metric_value(metrics_text: str, name: str, labels: dict[str, str]) -> float:
    families = text_string_to_metric_families(metrics_text)
    found = [
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == name and sample.labels == labels
    ]
    assert found, (name, labels)
    return found[0]


def test_every_service_exports_its_http_metrics_by_route(suite: Suite) -> None:
    for service in SERVICES:
        assert httpx.get(suite.url(service) + "/health/live").status_code == 200
        text = httpx.get(suite.ops_url(service) + "/metrics").text
        route = {"service": service, "method": "GET", "path": "/health/live"}
        requests = metric_value(text, "encore_http_requests_total", {**route, "status_code": "200"})
        assert requests >= 1
        assert metric_value(text, "encore_http_request_duration_seconds_count", route) >= 1


def test_one_trace_follows_a_public_open_to_the_analytics_consumer(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite, collector: Collector
) -> None:
    """One OpenTelemetry trace, exported by three processes: the gateway's server span of the
    open (its caller's child), the producer span sharing's outbox relay records for the
    visit's event (the open's child: the visit carried its traceparent to sharing and the
    outbox row kept it), analytics' consumer span (the producer's child, through the Kafka
    record's traceparent); and the trace id is the one the response and the fact carry."""
    artist = new_artist()
    track = upload(api, artist)
    link = api.post(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/share", headers=artist.headers
    ).json()
    trace_id, caller = secrets.token_hex(16), secrets.token_hex(8)
    opened = api.get(
        f"/v1/public/track-links/{link['token']}",
        headers={"traceparent": f"00-{trace_id}-{caller}-01"},
    )
    assert opened.status_code == 200
    assert opened.headers["x-request-id"] == trace_id
    query = "select type from analytics.engagement_facts where trace_id = $1"
    rows = eventually(lambda: run_sql(suite.infra.database_url, query, trace_id))
    assert [r["type"] for r in rows] == ["share.clicked"]

    def chain_to_the_caller() -> list[tuple[str, str, str]] | None:
        """The consumer span's ancestry, once every process has exported its part of it."""
        spans = collector.trace(trace_id)
        by_id = {s.span_id: s for s in spans}
        span = next((s for s in spans if (s.service, s.kind) == ("analytics", "consumer")), None)
        chain = []
        while span is not None:
            chain.append((span.service, span.kind, span.name))
            if span.parent_span_id == caller:
                return chain
            span = by_id.get(span.parent_span_id or "")
        return None

    chain = eventually(chain_to_the_caller, timeout=20)
    assert chain == [
        ("analytics", "consumer", "share.clicked process"),
        ("sharing", "producer", "share.clicked publish"),
        ("gateway", "server", "GET /v1/public/track-links/{token}"),
    ], collector.trace(trace_id)


def test_an_internal_call_continues_its_callers_trace(
    api: httpx.Client, new_artist: Callable[[], Artist], collector: Collector
) -> None:
    """gateway server span -> its aiohttp client span -> the next service's server span ->
    that service's database spans, all in the trace the caller started."""
    artist = new_artist()
    trace_id, caller = secrets.token_hex(16), secrets.token_hex(8)
    listed = api.get(
        f"/v1/music/{artist.organization_id}/tracks",
        headers={**artist.headers, "traceparent": f"00-{trace_id}-{caller}-01"},
    )
    assert listed.status_code == 200 and listed.headers["x-request-id"] == trace_id

    def served_by_catalog() -> list[ExportedSpan] | None:
        # each process exports in its own batches: wait until every span asked about is in
        spans = collector.trace(trace_id)
        exported = {(s.service, s.kind) for s in spans}
        wanted = {
            ("gateway", "server"),
            ("gateway", "client"),
            ("catalog", "server"),
            ("catalog", "client"),
        }
        return spans if wanted <= exported else None

    spans = eventually(served_by_catalog, timeout=20)
    by_id = {s.span_id: s for s in spans}
    (server,) = [s for s in spans if (s.service, s.kind) == ("gateway", "server")]
    assert server.parent_span_id == caller
    (theirs,) = [s for s in spans if (s.service, s.kind) == ("catalog", "server")]
    call = by_id[theirs.parent_span_id or ""]
    assert (call.service, call.kind, call.parent_span_id) == ("gateway", "client", server.span_id)
    statements = [s for s in spans if (s.service, s.kind) == ("catalog", "client")]
    assert all(s.parent_span_id == theirs.span_id for s in statements)


def test_the_gateway_serves_its_openapi(api: httpx.Client) -> None:
    schema = api.get("/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/v1/music/{org}/tracks",
        "/v1/public/track-links/{token}",
        "/v1/music/{org}/shares",
    ):
        assert path in paths


def test_kafka_and_outbox_metrics_are_exported(suite: Suite) -> None:
    catalog = httpx.get(suite.ops_url("catalog") + "/metrics").text
    assert "encore_outbox_backlog" in catalog
    sharing = httpx.get(suite.ops_url("sharing") + "/metrics").text
    assert "faststream_" in sharing, "FastStream's Prometheus middleware reports Kafka traffic"
