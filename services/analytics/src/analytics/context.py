"""Everything an analytics handler needs, built once in `app.py`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics.settings import AnalyticsSettings


@dataclass(frozen=True, slots=True)
class AnalyticsContext:
    settings: AnalyticsSettings
    sessions: async_sessionmaker[AsyncSession]
