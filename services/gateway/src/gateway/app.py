"""Composition of the gateway: the only public HTTP surface."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from gateway.api.analytics import AnalyticsController
from gateway.api.catalog import AlbumsController, PacksController, SplitSheetController
from gateway.api.identity import MeController, OrganizationsController, UsersController
from gateway.api.music import SharesController, TracksController
from gateway.api.public import (
    Limiters,
    MediaController,
    PublicPackLinksController,
    PublicSplitSheetsController,
    PublicTrackLinksController,
    RefSharesController,
    SharedController,
    SignedInPackLinksController,
)
from gateway.api.public_catalog import PublicCatalogController
from gateway.auth import provide_caller, provide_membership, provide_optional_caller
from gateway.cache import PublicCache
from gateway.context import GatewayContext
from gateway.events.invalidation import register_invalidation
from gateway.openapi import document_errors
from gateway.ratelimit import FailureLimiter
from gateway.settings import GatewaySettings
from gateway.track_link_opens import track_link_opens
from servicekit.app import provide_value
from servicekit.db import make_engine, make_sessionmaker
from servicekit.errors import EXCEPTION_HANDLERS
from servicekit.health import database_check, health_handlers
from servicekit.kafka import broker_check, make_broker
from servicekit.logs import configure_logging
from servicekit.middleware import trace_middleware
from servicekit.upstream import InternalClient


class OperatorMetrics(PrometheusController):
    """`/metrics` is for operators, not part of the public API document."""

    include_in_schema = False


def build_context(settings: GatewaySettings) -> GatewayContext:
    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    token = settings.internal_token.get_secret_value()
    timeout = settings.upstream_timeout_seconds
    sharing = InternalClient("sharing", settings.sharing_url, token, timeout)
    return GatewayContext(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        reads=make_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT")),
        catalog=InternalClient("catalog", settings.catalog_url, token, timeout),
        sharing=sharing,
        analytics=InternalClient("analytics", settings.analytics_url, token, timeout),
        track_link_opens=track_link_opens(sharing),
    )


def create_app(settings: GatewaySettings | None = None) -> Litestar:
    settings = settings or GatewaySettings()
    configure_logging("gateway", settings.log_level)
    ctx = build_context(settings)
    engine = ctx.engine
    cache = PublicCache(settings.public_cache_ttl_seconds)
    limiters = Limiters(
        lookups=FailureLimiter(
            "lookup", settings.failed_lookup_limit, settings.rate_limit_window_seconds
        ),
        access_codes=FailureLimiter(
            "access code", settings.access_code_attempt_limit, settings.rate_limit_window_seconds
        ),
    )
    broker = make_broker(settings, "gateway")
    register_invalidation(broker, settings, cache)

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await broker.start()
        try:
            yield
        finally:
            await broker.stop()
            for client in (ctx.catalog, ctx.sharing, ctx.analytics):
                await client.aclose()
            await engine.dispose()

    prometheus = PrometheusConfig(app_name="encore_gateway", group_path=True)
    app = Litestar(
        route_handlers=[
            UsersController,
            MeController,
            OrganizationsController,
            TracksController,
            SplitSheetController,
            AlbumsController,
            PacksController,
            PublicCatalogController,
            SharesController,
            AnalyticsController,
            PublicTrackLinksController,
            SharedController,
            PublicPackLinksController,
            SignedInPackLinksController,
            PublicSplitSheetsController,
            RefSharesController,
            MediaController,
            OperatorMetrics,
            *health_handlers({"database": database_check(engine), "kafka": broker_check(broker)}),
        ],
        dependencies={
            "ctx": provide_value(ctx),
            "cache": provide_value(cache),
            "limiters": provide_value(limiters),
            "caller_or_none": Provide(provide_optional_caller),
            "caller": Provide(provide_caller),
            "membership": Provide(provide_membership),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[trace_middleware, prometheus.middleware],
        lifespan=[lifespan],
        request_max_body_size=settings.max_upload_bytes + 1024 * 1024,
        openapi_config=OpenAPIConfig(title="Encore API", version="1.0.0", path="/schema"),
    )
    document_errors(app.openapi_schema)
    return app
