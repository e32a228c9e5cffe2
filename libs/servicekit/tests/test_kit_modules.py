"""servicekit's smaller modules: settings' refusal of dev secrets, database URLs, readiness,
the outbox's insert (real Postgres), dead letters (FastStream's TestKafkaBroker) and the
internal client's answer when an upstream is down."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import ClassVar

import httpx
import pytest
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from litestar import Litestar
from pydantic import SecretStr, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.db.models import outbox as catalog_outbox
from contracts.errors import ErrorCode
from contracts.events import EventEnvelope, TrackDeleted, wrap
from devstack.processes import free_port
from servicekit.db import asyncpg_url, make_engine
from servicekit.dead_letters import dead_letter
from servicekit.errors import ApiError
from servicekit.health import database_check, ready_handler
from servicekit.outbox import Outbox
from servicekit.settings import ServiceSettings
from servicekit.upstream import InternalClient, segment

# --- settings ----------------------------------------------------------------------------


class WithKey(ServiceSettings):
    required_secrets: ClassVar[tuple[str, ...]] = (*ServiceSettings.required_secrets, "key")
    optional_secrets: ClassVar[tuple[str, ...]] = ("extra",)
    key: SecretStr = SecretStr("dev-key")
    extra: SecretStr | None = None


def test_dev_accepts_the_built_in_secrets() -> None:
    assert WithKey(env="dev").key.get_secret_value() == "dev-key"


@pytest.mark.parametrize("key", ["dev-key", "", "  ", "REPLACE_ME_key"])
def test_production_refuses_a_default_empty_or_placeholder_secret_naming_it(key: str) -> None:
    with pytest.raises(ValidationError) as refused:
        WithKey(env="production", internal_token=SecretStr("t0k3n-real"), key=SecretStr(key))
    message = str(refused.value)
    assert "ENCORE_KEY" in message and "ENCORE_INTERNAL_TOKEN" not in message
    assert "t0k3n-real" not in message, "a refusal never prints the secrets it read"


def test_production_takes_real_secrets_and_checks_an_optional_one_only_when_set() -> None:
    real = {"internal_token": SecretStr("t0k3n-real"), "key": SecretStr("k3y-real")}
    assert WithKey(env="production", **real).extra is None  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="ENCORE_EXTRA"):
        WithKey(env="production", extra=SecretStr("REPLACE_ME"), **real)  # type: ignore[arg-type]


# --- database URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_operators_write_plain_postgres_urls(given: str, used: str) -> None:
    assert asyncpg_url(given) == used


def test_a_path_segment_is_quoted_whole() -> None:
    assert segment("a/b c") == "a%2Fb%20c"


# --- readiness ---------------------------------------------------------------------------


async def readiness(database_url: str, kafka_up: bool) -> httpx.Response:
    engine = make_engine(database_url, pool_size=1)

    async def kafka() -> None:
        if not kafka_up:
            raise ConnectionError("kafka unreachable")

    app = Litestar([ready_handler({"database": database_check(engine), "kafka": kafka})])
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url="http://ops",
        ) as client:
            return await client.get("/health/ready")
    finally:
        await engine.dispose()


async def test_ready_without_kafka_is_degraded_but_ready(database_url: str) -> None:
    assert (await readiness(database_url, kafka_up=True)).json()["status"] == "ok"
    degraded = await readiness(database_url, kafka_up=False)
    assert degraded.status_code == 200
    assert degraded.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "kafka": "failed: ConnectionError"},
    }


async def test_without_the_database_a_service_is_unready() -> None:
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    response = await readiness(closed, kafka_up=True)
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["database"].startswith("failed: ")


DELETED_AT = datetime(2026, 1, 1, tzinfo=UTC)


# --- the outbox --------------------------------------------------------------------------


async def rows_for(sessions: async_sessionmaker[AsyncSession], event_id: uuid.UUID) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(catalog_outbox)
            .where(catalog_outbox.c.event_id == event_id)
        )
    return int(count or 0)


async def test_an_event_id_already_waiting_is_written_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    outbox = Outbox(catalog_outbox)
    envelope = wrap(
        TrackDeleted(
            track_id="trk_1", organization_id="org_1", owner_id="usr_1", deleted_at=DELETED_AT
        ),
        producer="catalog",
    )
    async with sessions() as session, session.begin():
        await outbox.add(session, envelope, envelope)
    async with sessions() as session, session.begin():  # a retried batch
        await outbox.add(session, envelope)
    assert await rows_for(sessions, envelope.event_id) == 1


async def test_an_event_rolled_back_with_its_change_is_never_written(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    outbox = Outbox(catalog_outbox)
    envelope = wrap(
        TrackDeleted(
            track_id="trk_2", organization_id="org_1", owner_id="usr_1", deleted_at=DELETED_AT
        ),
        producer="catalog",
    )

    async def change_that_fails() -> None:
        async with sessions() as session, session.begin():
            await outbox.add(session, envelope)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    assert await rows_for(sessions, envelope.event_id) == 0


def deleted_track(track_id: str) -> EventEnvelope[TrackDeleted]:
    return wrap(
        TrackDeleted(
            track_id=track_id, organization_id="org_1", owner_id="usr_1", deleted_at=DELETED_AT
        ),
        producer="catalog",
    )


async def test_a_commit_that_added_events_wakes_the_relay_by_itself(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    outbox = Outbox(catalog_outbox)
    waiting = asyncio.create_task(outbox.wait(30))
    async with sessions() as session, session.begin():
        await outbox.add(session, deleted_track("trk_wake"))
        await asyncio.sleep(0.05)
        assert not waiting.done(), "woken before the change was durable"
    await asyncio.wait_for(waiting, 5)  # no notify() called: the commit did it


async def test_a_rolled_back_change_does_not_wake_the_relay(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    outbox = Outbox(catalog_outbox)
    waiting = asyncio.create_task(outbox.wait(30))
    with contextlib.suppress(RuntimeError):
        async with sessions() as session, session.begin():
            await outbox.add(session, deleted_track("trk_rolled_back"))
            raise RuntimeError("the change failed")
    await asyncio.sleep(0.1)
    assert not waiting.done()
    waiting.cancel()


async def test_notify_wakes_a_waiting_relay_at_once() -> None:
    outbox = Outbox(catalog_outbox)
    started = time.monotonic()
    waiting = asyncio.create_task(outbox.wait(30))
    await asyncio.sleep(0)
    outbox.notify()
    await waiting
    assert time.monotonic() - started < 5


# --- dead letters ------------------------------------------------------------------------


@pytest.fixture
async def broker() -> AsyncIterator[KafkaBroker]:
    broker = KafkaBroker("127.0.0.1:1")
    async with TestKafkaBroker(broker) as test_broker:
        yield test_broker


async def test_a_dead_letter_keeps_the_bytes_headers_and_origin_and_says_why(
    broker: KafkaBroker,
) -> None:
    got: list[KafkaMessage] = []

    @broker.subscriber("things.dlq")
    async def capture(message: KafkaMessage) -> None:
        got.append(message)

    await broker.start()
    await dead_letter(
        broker,
        "things",
        b"\xff not json",
        b"key-1",
        [("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")],
        ValueError("not an event"),
        partition=2,
        offset=41,
    )
    assert len(got) == 1
    message = got[0]
    assert message.body == b"\xff not json"
    assert message.headers["traceparent"].startswith("00-4bf92f35")
    assert message.headers["dlq-reason"] == "ValueError: not an event"
    assert (message.headers["dlq-original-topic"], message.headers["dlq-original-partition"]) == (
        "things",
        "2",
    )
    assert message.headers["dlq-original-offset"] == "41"


# --- the internal client -----------------------------------------------------------------


async def test_an_unreachable_upstream_is_a_503_never_a_500() -> None:
    client = InternalClient("catalog", f"http://127.0.0.1:{free_port()}", "t", timeout=2)
    try:
        with pytest.raises(ApiError) as raised:
            await client.json("GET", "/internal/anything")
        assert raised.value.code is ErrorCode.SERVICE_UNAVAILABLE
    finally:
        await client.aclose()
