"""OpenTelemetry in servicekit, on an in-memory exporter: a trusted caller's sampled trace is
continued by the server span, the database statements and the internal client's call (whose
`traceparent` the next service receives); an outbox row keeps the trace of the transaction
that added it; logs and error envelopes carry the W3C trace id; unsampled requests record
nothing (the default without an exporter); FastStream's subscribers continue the trace a
record was published in."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web
from faststream.kafka import TestKafkaBroker
from litestar import get
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from catalog.db.models import outbox as catalog_outbox
from contracts.events import TrackDeleted, wrap
from servicekit.app import build_service_app
from servicekit.db import make_engine
from servicekit.kafka import make_broker
from servicekit.logs import JsonFormatter
from servicekit.outbox import Outbox
from servicekit.settings import ServiceSettings
from servicekit.tracing import (
    TRACE_HEADER,
    context_of,
    continued,
    current_trace_id,
    current_traceparent,
    setup_tracing,
    trace_id_of,
)
from servicekit.upstream import InternalClient

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
SAMPLED = f"00-{TRACE}-{CALLER_SPAN}-01"
UNSAMPLED = f"00-{TRACE}-{CALLER_SPAN}-00"
TOKEN = {"X-Internal-Token": "dev-internal-token"}


@pytest.fixture(scope="session")
def exporter() -> InMemorySpanExporter:
    setup_tracing("kit-tests")  # or the provider an app built earlier in the session installed
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory


@pytest.fixture
def spans(exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    exporter.clear()
    yield exporter
    exporter.clear()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=1)
    yield engine
    await engine.dispose()


@pytest.fixture
async def client(
    engine: AsyncEngine, service_settings: dict[str, Any]
) -> AsyncIterator[httpx.AsyncClient]:
    @get("/internal/things")
    async def things() -> dict[str, Any]:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
            await conn.execute(text("select 2"))
        return {"trace_id": current_trace_id()}

    app = build_service_app(
        "kit", ServiceSettings(**service_settings), [things], dependencies={}, checks={},
        lifespan=lambda _: _nothing(),
    )  # fmt: skip
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        yield client


def _nothing() -> Any:
    from contextlib import nullcontext

    return nullcontext()


def parent_of(span: ReadableSpan) -> str | None:
    return format_span_id(span.parent.span_id) if span.parent else None


def trace_of(span: ReadableSpan) -> str:
    assert span.context is not None
    return format_trace_id(span.context.trace_id)


def span_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format_span_id(span.context.span_id)


async def test_a_trusted_sampled_call_gets_a_server_span_and_one_per_statement(
    client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    response = await client.get("/internal/things", headers={**TOKEN, "traceparent": SAMPLED})
    assert response.status_code == 200
    assert response.headers[TRACE_HEADER] == TRACE == response.json()["trace_id"]
    finished = spans.get_finished_spans()
    (server,) = [s for s in finished if s.kind is SpanKind.SERVER]
    assert server.name == "GET /internal/things"
    assert (trace_of(server), parent_of(server)) == (TRACE, CALLER_SPAN)
    assert server.attributes and server.attributes["http.response.status_code"] == 200
    statements = [s for s in finished if s.kind is SpanKind.CLIENT]
    assert len(statements) == 2
    assert {(trace_of(s), parent_of(s)) for s in statements} == {(TRACE, span_id(server))}


async def test_unsampled_or_untrusted_calls_record_no_span(
    client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    unsampled = await client.get("/internal/things", headers={**TOKEN, "traceparent": UNSAMPLED})
    assert unsampled.headers[TRACE_HEADER] == TRACE  # still the caller's trace
    fresh = await client.get("/internal/things", headers=TOKEN)
    assert len(fresh.headers[TRACE_HEADER]) == 32 and fresh.headers[TRACE_HEADER] != TRACE
    planted = await client.get("/internal/things", headers={"traceparent": SAMPLED})
    error = planted.json()["error"]  # no token: 401, in a trace of its own
    assert error["trace_id"] == planted.headers[TRACE_HEADER] != TRACE
    assert spans.get_finished_spans() == ()


async def test_an_internal_call_sends_its_client_spans_traceparent(
    spans: InMemorySpanExporter, unused_tcp_port: int
) -> None:
    received: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        received.append(request.headers["traceparent"])
        return web.json_response({})

    server = web.Application()
    server.router.add_get("/internal/x", handler)
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    client = InternalClient("other", f"http://127.0.0.1:{unused_tcp_port}", "token")
    try:
        with continued(SAMPLED):
            await client.request("GET", "/internal/x")
    finally:
        await client.aclose()
        await runner.cleanup()
    (call,) = spans.get_finished_spans()
    assert call.kind is SpanKind.CLIENT and parent_of(call) == CALLER_SPAN
    assert received == [f"00-{TRACE}-{span_id(call)}-01"]


async def test_an_outbox_row_keeps_the_trace_of_the_transaction_that_added_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    outbox = Outbox(catalog_outbox)
    event = TrackDeleted(
        track_id="trk_traced", organization_id="org_1", owner_id="usr_1",
        deleted_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    with continued(UNSAMPLED):
        async with sessions() as session, session.begin():
            await outbox.add(session, wrap(event, producer="t", event_id=mine))
            # a visit queued by another request continues that request's trace
            await outbox.add(
                session, wrap(event, producer="t", event_id=theirs), traceparents=[SAMPLED]
            )
    async with sessions() as session:
        rows = dict(
            (
                await session.execute(
                    select(catalog_outbox.c.event_id, catalog_outbox.c.traceparent).where(
                        catalog_outbox.c.event_id.in_([mine, theirs])
                    )
                )
            ).all()
        )
    assert rows == {mine: UNSAMPLED, theirs: SAMPLED}


def test_logs_and_ids_carry_the_w3c_trace_id() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    formatter = JsonFormatter("kit")
    assert json.loads(formatter.format(record))["trace_id"] is None
    with continued(UNSAMPLED):
        assert json.loads(formatter.format(record))["trace_id"] == TRACE
        assert current_traceparent() == UNSAMPLED
    assert trace_id_of(SAMPLED) == TRACE
    assert trace_id_of("garbage") is None and trace_id_of(None) is None
    assert not trace.get_current_span(context_of("garbage")).get_span_context().is_valid


async def test_a_subscriber_continues_the_trace_its_record_was_published_in(
    spans: InMemorySpanExporter, service_settings: dict[str, Any]
) -> None:
    broker = make_broker(ServiceSettings(**service_settings), "kit")
    seen: list[str | None] = []

    @broker.subscriber("things")
    async def on_thing(body: dict[str, Any]) -> None:
        seen.append(current_trace_id())

    async with TestKafkaBroker(broker) as test_broker:
        with continued(SAMPLED):
            await test_broker.publish({"n": 1}, "things")
    assert seen == [TRACE]
    finished = spans.get_finished_spans()
    by_name = {s.name: s for s in finished}
    created, consumer = by_name["things create"], by_name["things process"]
    assert (created.kind, consumer.kind) == (SpanKind.PRODUCER, SpanKind.CONSUMER)
    assert parent_of(created) == CALLER_SPAN
    assert (trace_of(consumer), parent_of(consumer)) == (TRACE, span_id(created))
