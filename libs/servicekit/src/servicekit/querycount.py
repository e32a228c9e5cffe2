"""Counts database statements per request, across services.

Each service adds its own count to `X-Encore-DB-Statements` on every response, and the
internal HTTP client adds the counts its upstreams report, so the gateway's header is the
total for the whole request. Tests use it to prove a page costs a fixed number of round
trips; operators can read it in responses.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

STATEMENTS_HEADER = "X-Encore-DB-Statements"

_count: ContextVar[list[int] | None] = ContextVar("db_statements", default=None)


def start_counting() -> list[int]:
    counter = [0]
    _count.set(counter)
    return counter


def add(n: int) -> None:
    counter = _count.get()
    if counter is not None:
        counter[0] += n


def count_statements(engine: AsyncEngine) -> None:
    def before_execute(*_: Any) -> None:
        add(1)

    event.listen(engine.sync_engine, "before_cursor_execute", before_execute)
