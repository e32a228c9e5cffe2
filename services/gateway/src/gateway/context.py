"""Everything a gateway handler or service function needs, built once (`build_context`)
by `app.py` for the server and by `cli.py` for operator commands."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.cache import PublicCache
from gateway.clients import TrustedProxies
from gateway.link_cache import TrackLinkCache
from gateway.listens import ListenRecorder
from gateway.media import MediaProxy
from gateway.media_access import MediaAccessCache, MediaAccessCheck
from gateway.ratelimit import Budget, Counters, Limiters
from gateway.settings import GatewaySettings
from gateway.track_link_opens import TrackLinkOpens
from servicekit.db import make_engine, make_sessionmaker
from servicekit.upstream import InternalClient


@dataclass(frozen=True, slots=True)
class GatewayContext:
    settings: GatewaySettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # single-statement reads (who is calling): autocommit, so no BEGIN and ROLLBACK round
    # trips around the one statement; a lone statement is its own snapshot either way
    reads: async_sessionmaker[AsyncSession]
    catalog: InternalClient
    sharing: InternalClient
    analytics: InternalClient
    track_link_opens: TrackLinkOpens
    public_cache: PublicCache
    limiters: Limiters  # failed guesses, anonymous engagement per client (ratelimit.py)
    listens: ListenRecorder  # listening beacons queued for sharing (listens.py)
    media: MediaProxy  # its own pool to catalog, bounded streams (see media.py)
    media_access: MediaAccessCheck  # link-bound media URLs play while their link is live
    proxies: TrustedProxies  # whose forwarded headers tell the client address (clients.py)


def build_context(settings: GatewaySettings) -> GatewayContext:
    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    token = settings.internal_token.get_secret_value()
    timeout = settings.upstream_timeout_seconds
    sharing = InternalClient("sharing", settings.sharing_url, token, timeout)
    links = TrackLinkCache(settings.track_link_cache_ttl_seconds, settings.track_link_stale_seconds)
    limiters = Limiters(
        Counters(settings.redis_url, settings.redis_timeout_seconds),
        lookups=Budget.of(
            "lookup",
            settings.failed_lookup_limit,
            settings.rate_limit_window_seconds,
            "too many failed lookups from this address",
        ),
        access_codes=Budget.of(
            "access code",
            settings.access_code_attempt_limit,
            settings.rate_limit_window_seconds,
            "too many access code attempts from this address",
        ),
        link_access_codes=Budget.of(
            "link access code",
            settings.access_code_link_attempt_limit,
            settings.access_code_link_window_seconds,
            "too many access code attempts on this link",
        ),
        engagement=Budget.of(
            "anonymous engagement",
            settings.anonymous_engagement_limit,
            settings.anonymous_engagement_window_seconds,
            "engagement over this address's limit is not recorded",
        ),
    )
    return GatewayContext(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        reads=make_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT")),
        catalog=InternalClient("catalog", settings.catalog_url, token, timeout),
        sharing=sharing,
        analytics=InternalClient("analytics", settings.analytics_url, token, timeout),
        track_link_opens=TrackLinkOpens(sharing, links, limiters.admit),
        public_cache=PublicCache(
            settings.public_cache_ttl_seconds,
            max_entries=settings.public_cache_max_entries,
            miss_ttl_seconds=settings.public_cache_miss_ttl_seconds,
            max_misses=settings.public_cache_max_misses,
        ),
        media=MediaProxy(settings),
        media_access=MediaAccessCheck(sharing, MediaAccessCache(settings.media_access_ttl_seconds)),
        limiters=limiters,
        listens=ListenRecorder(sharing, links, limiters.admit),
        proxies=TrustedProxies(settings.trusted_proxies),
    )
