"""The common shape of a service app (servicekit.app and what it composes: the internal
token guard, the acting user's headers, trace ids, the statement count, paths as written,
OPTIONS, the error envelope), on a tiny app of its own and a real Postgres."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Request, get, post
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.app import build_service_app
from servicekit.db import make_engine
from servicekit.internal import actor_of
from servicekit.querycount import STATEMENTS_HEADER
from servicekit.settings import ServiceSettings
from servicekit.tracing import TRACE_HEADER, current_trace_id


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=1)
    yield engine
    await engine.dispose()


@pytest.fixture
async def client(
    engine: AsyncEngine, service_settings: dict[str, Any]
) -> AsyncIterator[httpx.AsyncClient]:
    @get("/internal/things/{thing_id:str}")
    async def read(request: Request[Any, Any, Any], thing_id: str) -> dict[str, Any]:
        async with engine.connect() as conn:
            for _ in range(3):
                await conn.execute(text("select 1"))
        actor = actor_of(request)
        return {
            "thing_id": thing_id,
            "user": actor.user_id,
            "name": actor.display_name,
            "manages": actor.manages_org(),
            "trace_id": current_trace_id(),
        }

    @post("/internal/things/{thing_id:str}", status_code=201)
    async def write(thing_id: str) -> None:
        return None

    @get("/internal/whoami")
    async def whoami(request: Request[Any, Any, Any]) -> str:
        return actor_of(request).require_user()

    settings = ServiceSettings(**service_settings)
    app = build_service_app(
        "kit", settings, [read, write, whoami], dependencies={}, checks={}, lifespan=no_lifespan
    )
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        yield client


def no_lifespan(_: Any) -> Any:
    from contextlib import nullcontext

    return nullcontext()


TOKEN = {"X-Internal-Token": "dev-internal-token"}


def envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (code, status)
    assert error["trace_id"] == response.headers[TRACE_HEADER]
    return dict(error)


async def test_internal_routes_need_the_internal_token(client: httpx.AsyncClient) -> None:
    envelope(await client.get("/internal/things/a"), 401, "AUTHENTICATION_REQUIRED")
    envelope(
        await client.get("/internal/things/a", headers={"X-Internal-Token": "guess"}),
        401,
        "AUTHENTICATION_REQUIRED",
    )
    assert (await client.get("/internal/things/a", headers=TOKEN)).status_code == 200
    # live is for probes: no token
    assert (await client.get("/health/live")).json() == {"status": "ok"}


async def test_the_acting_user_comes_from_the_gateways_headers(client: httpx.AsyncClient) -> None:
    headers = {
        **TOKEN,
        "X-Encore-User-Id": "usr_1",
        "X-Encore-User-Name": "Ad%C3%A9le%20L",  # percent-encoded: headers are latin-1
        "X-Encore-Org-Role": "admin",
    }
    body = (await client.get("/internal/things/a", headers=headers)).json()
    assert (body["user"], body["name"], body["manages"]) == ("usr_1", "Adéle L", True)
    envelope(await client.get("/internal/whoami", headers=TOKEN), 401, "AUTHENTICATION_REQUIRED")


MINE = "0af7651916cd43dd8448eb211c80319c"


async def test_a_trusted_callers_trace_is_continued_and_anyone_elses_replaced(
    client: httpx.AsyncClient,
) -> None:
    parent = f"00-{MINE}-b7ad6b7169203331-00"
    kept = await client.get("/internal/things/a", headers={**TOKEN, "traceparent": parent})
    assert kept.headers[TRACE_HEADER] == MINE == kept.json()["trace_id"]
    untrusted = await client.get("/internal/things/a", headers={"traceparent": parent})
    assert untrusted.headers[TRACE_HEADER] not in ("", MINE)
    assert envelope(untrusted, 401, "AUTHENTICATION_REQUIRED")["trace_id"] != MINE
    insane = await client.get("/internal/things/a", headers={**TOKEN, "traceparent": "x" * 500})
    assert re.fullmatch("[0-9a-f]{32}", insane.headers[TRACE_HEADER])
    assert insane.headers[TRACE_HEADER] != "0" * 32


async def test_each_response_counts_its_database_statements(client: httpx.AsyncClient) -> None:
    response = await client.get("/internal/things/a", headers=TOKEN)
    assert response.headers[STATEMENTS_HEADER] == "3"
    written = await client.post("/internal/things/a", headers=TOKEN)
    assert written.headers[STATEMENTS_HEADER] == "0"


async def test_an_encoded_slash_names_nothing(client: httpx.AsyncClient) -> None:
    envelope(await client.get("/internal/things/a%2Fb", headers=TOKEN), 404, "RESOURCE_NOT_FOUND")
    ok = await client.get("/internal/things/a%20b", headers=TOKEN)
    assert ok.json()["thing_id"] == "a b"


async def test_options_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.options("/internal/things/a", headers=TOKEN)
    assert response.status_code == 204
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "POST"}
    wrong = await client.delete("/internal/things/a", headers=TOKEN)
    assert wrong.status_code == 405
