"""Async SQLAlchemy engine and session factory, one pool per service."""

from __future__ import annotations

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from servicekit.querycount import count_statements


def asyncpg_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (as operators write them) and use asyncpg."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    engine = create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        # no ping per checkout: it was a round trip on every session of the hot path; a
        # connection the database dropped fails one statement (503) and is discarded
        pool_pre_ping=False,
        pool_recycle=300,
        pool_timeout=5,
        connect_args={"timeout": 5, "command_timeout": 15},
    )
    count_statements(engine)
    trace_statements(engine)
    return engine


def trace_statements(engine: AsyncEngine) -> None:
    """A client span per statement (OpenTelemetry's SQLAlchemy instrumentation, for this
    engine only: its `instrument()` would also patch every `create_engine` and put a span on
    every connection checkout). Unsampled requests' spans record nothing."""
    usage = metrics.get_meter("servicekit.db").create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    tracer = trace.get_tracer("servicekit.db")
    EngineTracer(tracer, engine.sync_engine, usage)  # type: ignore[no-untyped-call]


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
