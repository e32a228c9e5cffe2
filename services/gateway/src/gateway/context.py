"""Everything a gateway handler needs, built once in `app.py`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from gateway.cache import PublicCache
from gateway.clients import TrustedProxies
from gateway.listens import ListenRecorder
from gateway.media import MediaProxy
from gateway.media_access import MediaAccessCheck
from gateway.ratelimit import Limiters
from gateway.settings import GatewaySettings
from gateway.track_link_opens import TrackLinkOpens
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
