"""Internal split-sheet endpoints (rules in domain/splits.py and service/split_sheets.py)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put

from catalog.context import CatalogContext
from catalog.service import split_sheets
from contracts.api.catalog import SplitSheetInput, SplitSheetStatusChange
from contracts.dto import SplitSheetView
from contracts.events import SplitSheetSnapshot
from servicekit.internal import actor_of


class SplitSheetController(Controller):
    path = "/internal/orgs/{org_id:str}/tracks/{track_id:str}/split-sheet"

    @get("/")
    async def get_sheet(self, org_id: str, track_id: str, ctx: CatalogContext) -> SplitSheetView:
        return await split_sheets.get_sheet(ctx, org_id, track_id)

    @put("/", status_code=200)
    async def put_sheet(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        track_id: str,
        data: SplitSheetInput,
        ctx: CatalogContext,
    ) -> SplitSheetView:
        """Create or replace the contributors. A sent sheet goes back to draft (the
        contributors saw another version); a signed sheet cannot change."""
        return await split_sheets.put_sheet(ctx, org_id, track_id, actor_of(request), data)

    @post("/status", status_code=200)
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        track_id: str,
        data: SplitSheetStatusChange,
        ctx: CatalogContext,
    ) -> SplitSheetView:
        return await split_sheets.change_status(
            ctx, org_id, track_id, actor_of(request), data.status
        )


class SplitSheetSnapshotController(Controller):
    """For sharing's read-through replica: a track's split sheet."""

    path = "/internal/tracks/{track_id:str}/split-sheet"

    @get("/snapshot")
    async def snapshot(self, track_id: str, ctx: CatalogContext) -> SplitSheetSnapshot:
        return await split_sheets.snapshot(ctx, track_id)
