"""Composition of the analytics service: the batch consumer and the stats API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar

from analytics.api.stats import StatsController
from analytics.context import AnalyticsContext
from analytics.events.consumer import Ingest
from analytics.settings import AnalyticsSettings
from servicekit.app import build_service_app
from servicekit.db import make_engine, make_sessionmaker
from servicekit.health import database_check
from servicekit.kafka import broker_check, make_broker


def create_app(settings: AnalyticsSettings | None = None) -> Litestar:
    settings = settings or AnalyticsSettings()
    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    sessions = make_sessionmaker(engine)
    broker = make_broker(settings, "analytics")  # publishes dead letters
    ingest = Ingest(broker, settings, sessions)

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await broker.start()
        await ingest.start()
        try:
            yield
        finally:
            await ingest.stop()
            await broker.stop()
            await engine.dispose()

    return build_service_app(
        "analytics",
        settings,
        [StatsController],
        dependencies={"ctx": AnalyticsContext(settings=settings, sessions=sessions)},
        checks={"database": database_check(engine), "kafka": broker_check(broker)},
        lifespan=lifespan,
    )
