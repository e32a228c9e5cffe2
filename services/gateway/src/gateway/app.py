"""Composition of the gateway: the only public HTTP surface."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from faststream.kafka import KafkaBroker
from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential

from gateway.api.analytics import AnalyticsController
from gateway.api.catalog import AlbumsController, PacksController, SplitSheetController
from gateway.api.identity import (
    MeController,
    MyInvitationsController,
    OrganizationsController,
    UsersController,
)
from gateway.api.listens import ListensController
from gateway.api.music import SharesController, TracksController
from gateway.api.public import (
    MediaController,
    PublicPackLinksController,
    PublicSplitSheetsController,
    PublicTrackLinksController,
    RefSharesController,
    SharedController,
    SignedInPackLinksController,
)
from gateway.api.public_catalog import PublicCatalogController
from gateway.auth import (
    authentication_guard,
    provide_caller,
    provide_membership,
    provide_optional_caller,
)
from gateway.cached_opens import serve_cached_opens
from gateway.context import build_context
from gateway.dashboard.pages import DashboardController, live_reports
from gateway.domain.engagement import warm as warm_user_agent_parsers
from gateway.events.invalidation import register_invalidation
from gateway.forwarding import UPLOAD_OPTION
from gateway.front_listens import serve_listens
from gateway.openapi import document
from gateway.settings import GatewaySettings
from gateway.web.assets import serve_asset
from gateway.web.pages import PagesController, PlaybackController, oembed
from gateway.web.templating import page_exception_handlers, template_config
from servicekit.app import contract_plugins, freeze_startup_objects, provide_value
from servicekit.errors import EXCEPTION_HANDLERS
from servicekit.health import database_check, live_handler
from servicekit.kafka import broker_check, make_broker
from servicekit.logs import configure_logging
from servicekit.middleware import request_middleware
from servicekit.ops import serve_ops
from servicekit.paths import before_each_request
from servicekit.tracing import setup_tracing

log = logging.getLogger(__name__)


async def start_in_background(broker: KafkaBroker, max_backoff: float = 10.0) -> None:
    """Connect and subscribe, retrying (0.5 s doubling up to `max_backoff`) until the
    broker answers."""

    def not_yet(state: RetryCallState) -> None:
        wait = state.next_action.sleep if state.next_action else 0.0
        error = state.outcome.exception() if state.outcome else None
        log.warning("Kafka not reachable yet, retrying in %.1fs: %r", wait, error)

    retrying = AsyncRetrying(
        wait=wait_exponential(multiplier=0.5, max=max_backoff),
        retry=retry_if_exception_type(Exception),
        before_sleep=not_yet,
        reraise=True,
    )
    await retrying(broker.start)


# room for a multipart form's boundaries and text fields around the largest file
MULTIPART_OVERHEAD_BYTES = 1024 * 1024


def allow_uploads(app: Litestar, limit: int) -> None:
    """Give the routes marked `UPLOAD_ROUTE` (forwarding.py) the upload limit; every other
    route keeps the app's small one. Set on this app's own copies of the handlers (Litestar
    copies them when it registers a controller), so the limit can come from settings.
    Litestar resolves a route's limit when it first reads a body; the check below fails at
    start-up should that ever happen earlier."""
    marked = [
        handler
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        if handler.opt.get(UPLOAD_OPTION)
    ]
    for handler in marked:
        handler.request_max_body_size = limit
        if handler.resolve_request_max_body_size() != limit:
            raise RuntimeError(f"upload limit not applied to {handler.handler_name}")


def create_app(settings: GatewaySettings | None = None) -> ASGIApp:
    """The Litestar app, behind the layer that answers anonymous opens of cached track
    links on its own (cached_opens.py)."""
    settings = settings or GatewaySettings()
    configure_logging("gateway", settings.log_level)
    setup_tracing("gateway")
    ctx = build_context(settings)
    warm_user_agent_parsers()
    if not settings.redis_url:
        log.warning("ENCORE_REDIS_URL is not set: guessing limits are kept per process")
    engine = ctx.engine
    broker = make_broker(settings, "gateway")
    register_invalidation(
        broker,
        settings,
        ctx.public_cache,
        ctx.track_link_opens.cache,
        ctx.media_access.cache,
    )
    visits = ctx.track_link_opens.visits
    live = live_reports(ctx)  # one poller per link watched on the dashboard
    checks = {"database": database_check(engine), "kafka": broker_check(broker)}

    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        # the gateway serves without Kafka (it only listens for invalidations, and the link
        # cache stays off until it hears them), so it does not wait ~3 s for its group join
        listening = asyncio.create_task(start_in_background(broker), name="kafka-start")
        recording = asyncio.create_task(visits.run(), name="track-link-visits")
        beacons = asyncio.create_task(ctx.listens.queue.run(), name="listen-beacons")
        try:
            yield
        finally:
            for task in (recording, beacons, listening):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await live.close()
            await asyncio.gather(
                visits.drain(settings.visit_drain_seconds),
                ctx.listens.queue.drain(settings.visit_drain_seconds),
            )
            await broker.stop()
            for client in (ctx.catalog, ctx.sharing, ctx.analytics, ctx.media):
                await client.aclose()
            await ctx.limiters.counters.aclose()
            await engine.dispose()

    app = Litestar(
        route_handlers=[
            UsersController,
            MeController,
            MyInvitationsController,
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
            ListensController,
            PagesController,
            PlaybackController,
            oembed,
            DashboardController,
            serve_asset,
            # /metrics and /health/ready: on the ops port only, never the public one
            live_handler(),
        ],
        dependencies={
            "ctx": provide_value(ctx),
            "caller_or_none": Provide(provide_optional_caller),
            "caller": Provide(provide_caller),
            "membership": Provide(provide_membership),
            "live": provide_value(live),
        },
        exception_handlers=page_exception_handlers(EXCEPTION_HANDLERS),
        template_config=template_config(),
        # authentication, membership and the admin key, before any body is read (auth.py)
        guards=[authentication_guard(ctx)],
        middleware=[request_middleware("gateway", trace_from=ctx.proxies.peer_trusted)],
        before_request=before_each_request,
        lifespan=[lifespan, serve_ops(settings.ops_host, settings.ops_port, checks)],
        on_startup=[freeze_startup_objects],
        plugins=contract_plugins(),
        request_max_body_size=settings.max_json_body_bytes,
        openapi_config=OpenAPIConfig(title="Encore API", version="1.0.0", path="/schema"),
    )
    allow_uploads(app, settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES)
    document(app)
    return serve_cached_opens(serve_listens(app, ctx), ctx)
