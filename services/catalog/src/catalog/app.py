"""Composition of the catalog service: HTTP API, outbox relay, storage, health."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar

from catalog.api.albums import AlbumsController
from catalog.api.media import MediaController
from catalog.api.packs import PacksController, PackSnapshotController
from catalog.api.public import PublicAlbumsController
from catalog.api.split_sheets import SplitSheetController, SplitSheetSnapshotController
from catalog.api.tracks import OrgTracksController, TracksController
from catalog.context import CatalogContext
from catalog.db.models import outbox as outbox_table
from catalog.service.storage_sweeper import StorageSweeper
from catalog.settings import CatalogSettings
from catalog.storage import MediaStorage
from servicekit.app import build_service_app
from servicekit.db import make_engine, make_sessionmaker
from servicekit.health import database_check
from servicekit.kafka import broker_check, make_broker, producer_factory
from servicekit.outbox import Outbox, OutboxRelay


def create_app(settings: CatalogSettings | None = None) -> Litestar:
    settings = settings or CatalogSettings()
    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    sessions = make_sessionmaker(engine)
    broker = make_broker(settings, "catalog")
    outbox = Outbox(outbox_table)
    storage = MediaStorage(settings)
    sweeper = StorageSweeper(sessions, storage, settings.storage_sweep_interval_seconds)
    ctx = CatalogContext(
        settings=settings, sessions=sessions, outbox=outbox, storage=storage, sweeper=sweeper
    )
    relay = OutboxRelay(outbox, sessions, producer_factory(settings, "catalog"))

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await storage.ensure_bucket()
        await broker.start()
        await relay.start()
        tasks = [
            asyncio.create_task(relay.run(), name="outbox-relay"),
            asyncio.create_task(sweeper.run(), name="storage-sweeper"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await relay.stop()
            await broker.stop()
            await engine.dispose()

    extra: dict[str, Any] = {"request_max_body_size": settings.max_upload_bytes + 1024 * 1024}
    return build_service_app(
        "catalog",
        settings,
        [
            OrgTracksController,
            TracksController,
            MediaController,
            AlbumsController,
            PacksController,
            SplitSheetController,
            PublicAlbumsController,
            PackSnapshotController,
            SplitSheetSnapshotController,
        ],
        dependencies={"ctx": ctx},
        checks={
            "database": database_check(engine),
            "kafka": broker_check(broker),
            "storage": storage.ping,
        },
        lifespan=lifespan,
        **extra,
    )
