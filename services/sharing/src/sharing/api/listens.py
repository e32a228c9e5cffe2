"""`/internal/listens`: the gateway's batches of listening beacons (service/listens.py)."""

from __future__ import annotations

from litestar import Controller, post

from contracts.dto import ListenReportBatch, ListensRecorded
from sharing.context import SharingContext
from sharing.service.listens import record_listens


class ListensController(Controller):
    path = "/internal/listens"

    @post("/", status_code=200)
    async def listens(self, data: ListenReportBatch, ctx: SharingContext) -> ListensRecorded:
        recorded = await record_listens(ctx, data.listens)
        return ListensRecorded(recorded=recorded, dropped=len(data.listens) - recorded)
