"""Every catalog change is an event on `catalog.lifecycle`, written with the change."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.context import PRODUCER, CatalogContext
from contracts.events import Payload, wrap
from servicekit.tracing import current_trace_id


async def emit(ctx: CatalogContext, session: AsyncSession, *payloads: Payload) -> None:
    await ctx.outbox.add(
        session, *(wrap(p, producer=PRODUCER, trace_id=current_trace_id()) for p in payloads)
    )
