"""Composition of the sharing service: link APIs, catalog replica consumer, outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar

from servicekit.app import build_service_app
from servicekit.db import make_engine, make_sessionmaker
from servicekit.health import database_check
from servicekit.kafka import broker_check, make_broker, producer_factory
from servicekit.outbox import Outbox, OutboxRelay
from servicekit.upstream import InternalClient
from sharing.api.listens import ListensController
from sharing.api.media_access import MediaAccessController
from sharing.api.pack_links import (
    GrantedPackLinksController,
    PackLinkCreateController,
    PublicPackLinksController,
)
from sharing.api.ref_links import RefLinksController
from sharing.api.shares import SharesController
from sharing.api.split_links import SplitLinkCreateController, SplitLinksController
from sharing.api.track_link_opens import TrackLinkOpensController
from sharing.api.track_links import OrgTrackShareController, TrackLinksController
from sharing.context import SharingContext
from sharing.db.models import outbox as outbox_table
from sharing.events.catalog_consumer import register_catalog_consumer
from sharing.settings import SharingSettings


def create_app(settings: SharingSettings | None = None) -> Litestar:
    settings = settings or SharingSettings()
    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    sessions = make_sessionmaker(engine)
    broker = make_broker(settings, "sharing")
    outbox = Outbox(outbox_table)
    catalog = InternalClient(
        "catalog", settings.catalog_url, settings.internal_token.get_secret_value()
    )
    ctx = SharingContext(settings=settings, sessions=sessions, outbox=outbox, catalog=catalog)
    relay = OutboxRelay(outbox, sessions, producer_factory(settings, "sharing"))
    register_catalog_consumer(broker, settings, sessions)

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await broker.start()
        await relay.start()
        relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        try:
            yield
        finally:
            relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay_task
            await relay.stop()
            await broker.stop()
            await catalog.aclose()
            await engine.dispose()

    return build_service_app(
        "sharing",
        settings,
        [
            OrgTrackShareController,
            TrackLinksController,
            TrackLinkOpensController,
            ListensController,
            SharesController,
            RefLinksController,
            PackLinkCreateController,
            PublicPackLinksController,
            GrantedPackLinksController,
            SplitLinkCreateController,
            SplitLinksController,
            MediaAccessController,
        ],
        dependencies={"ctx": ctx},
        checks={"database": database_check(engine), "kafka": broker_check(broker)},
        lifespan=lifespan,
    )
