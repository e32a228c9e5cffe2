"""`/health/live` says the process runs; `/health/ready` says its dependencies answer.

Live is served on the API port and the ops port, ready on the ops port only (servicekit.ops).

Kafka is reported but does not make a process unready: every service serves its requests
without it (events wait in the outbox, consumers catch up), so a broker outage must not take
every pod out of its load balancer. The database does gate readiness.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

Check = Callable[[], Awaitable[None]]

DEGRADED_ONLY = ("kafka",)  # checks whose failure reports "degraded" but stays ready


def database_check(engine: AsyncEngine) -> Check:
    async def check() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))

    return check


def live_handler() -> HTTPRouteHandler:
    @get("/health/live", include_in_schema=False, sync_to_thread=False)
    def live() -> dict[str, str]:
        return {"status": "ok"}

    return live


def ready_handler(
    checks: Mapping[str, Check],
    timeout: float = 2.0,
    degraded_only: Collection[str] = DEGRADED_ONLY,
) -> HTTPRouteHandler:
    @get("/health/ready", include_in_schema=False)
    async def ready() -> Response[dict[str, Any]]:
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout)
                results[name] = "ok"
            except Exception as exc:  # a readiness probe reports, it never raises
                results[name] = f"failed: {type(exc).__name__}"
        failed = {name for name, result in results.items() if result != "ok"}
        ready = failed <= set(degraded_only)
        status = "ok" if not failed else "degraded" if ready else "unavailable"
        return Response({"status": status, "checks": results}, status_code=200 if ready else 503)

    return ready
