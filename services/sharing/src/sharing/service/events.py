"""Link lifecycle events (`share.lifecycle`), written in the transaction that made the
change; engagement events go through service/engagement.py."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import Payload, wrap
from servicekit.tracing import current_trace_id
from sharing.context import PRODUCER, SharingContext


async def emit(ctx: SharingContext, session: AsyncSession, *payloads: Payload) -> None:
    await ctx.outbox.add(
        session, *(wrap(p, producer=PRODUCER, trace_id=current_trace_id()) for p in payloads)
    )
