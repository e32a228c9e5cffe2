"""Everything a sharing service function needs, built once in `app.py` and injected into
handlers per request."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.outbox import Outbox
from servicekit.upstream import InternalClient
from sharing.service.access_codes import AccessCodes
from sharing.settings import SharingSettings

PRODUCER = "sharing"


@dataclass(frozen=True, slots=True)
class SharingContext:
    settings: SharingSettings
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    catalog: InternalClient
    access_codes: AccessCodes = field(default_factory=AccessCodes)
