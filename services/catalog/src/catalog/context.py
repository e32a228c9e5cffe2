"""Everything a catalog service function needs, built once in `app.py` and injected into
handlers per request."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.service.storage_sweeper import StorageSweeper
from catalog.settings import CatalogSettings
from catalog.storage import MediaStorage
from servicekit.outbox import Outbox

PRODUCER = "catalog"


@dataclass(frozen=True, slots=True)
class CatalogContext:
    settings: CatalogSettings
    sessions: async_sessionmaker[AsyncSession]
    outbox: Outbox
    storage: MediaStorage
    sweeper: StorageSweeper
