"""Split sheets: one per track, percentages summing to exactly 100, draft -> sent -> signed."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post, put
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from catalog.api.tracks import owned_track
from catalog.context import CatalogContext
from catalog.db import tracks as tracks_repo
from catalog.db.models import split_sheets
from catalog.domain.splits import SplitError, can_move, check_total, parse_percentage
from catalog.events.publish import emit
from contracts import ids
from contracts.api.catalog import SplitSheetInput, SplitSheetStatusChange
from contracts.decimals import decimal_text
from contracts.dto import ContributorView, SplitSheetView
from contracts.errors import ErrorCode
from contracts.events import Contributor, SplitSheetChanged, SplitSheetSnapshot
from servicekit.errors import ApiError, not_found
from servicekit.internal import actor_of


def _snapshot(row: Any) -> SplitSheetSnapshot:
    return SplitSheetSnapshot(
        split_sheet_id=row.id,
        track_id=row.track_id,
        organization_id=row.organization_id,
        owner_id=row.owner_id,
        status=row.status,
        contributors=[Contributor(**c) for c in row.contributors],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _view(row: Any) -> SplitSheetView:
    return SplitSheetView(
        id=row.id,
        track_id=row.track_id,
        status=row.status,
        contributors=[ContributorView(**c) for c in row.contributors],
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _validated(data: SplitSheetInput) -> list[dict[str, Any]]:
    try:
        shares = [parse_percentage(c.percentage) for c in data.contributors]
        check_total(shares)
    except SplitError as exc:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            str(exc),
            details={"fields": {"contributors": str(exc)}, **exc.details},
        ) from exc
    return [
        {
            "name": c.name.strip(),
            "user_handle": c.user_handle,
            "role": c.role.strip(),
            "percentage": decimal_text(p),
        }
        for c, p in zip(data.contributors, shares, strict=True)
    ]


class SplitSheetController(Controller):
    path = "/internal/orgs/{org_id:str}/tracks/{track_id:str}/split-sheet"

    @get("/")
    async def get_sheet(self, org_id: str, track_id: str, ctx: CatalogContext) -> SplitSheetView:
        async with ctx.sessions() as session:
            track = await tracks_repo.get_track(session, track_id)
            row = (
                await session.execute(
                    select(split_sheets).where(split_sheets.c.track_id == track_id)
                )
            ).one_or_none()
        if track is None or track.organization_id != org_id or row is None:
            raise not_found("split sheet", track_id=track_id)
        return _view(row)

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
        owner_id = actor_of(request).require_user()
        contributors = _validated(data)
        async with ctx.sessions() as session, session.begin():
            await owned_track(session, track_id, org_id, owner_id, lock=True)
            stmt = insert(split_sheets).values(
                id=ids.new_split_sheet_id(),
                track_id=track_id,
                organization_id=org_id,
                owner_id=owner_id,
                status="draft",
                contributors=contributors,
            )
            row = (
                await session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[split_sheets.c.track_id],
                        set_={
                            "contributors": stmt.excluded.contributors,
                            "status": "draft",
                            "updated_at": func.now(),
                        },
                        where=split_sheets.c.status != "signed",
                    ).returning(split_sheets)
                )
            ).one_or_none()
            if row is None:
                raise ApiError(
                    ErrorCode.CONFLICT,
                    "a signed split sheet cannot change",
                    details={"status": "signed"},
                )
            await emit(
                ctx, session, SplitSheetChanged(action="updated", split_sheet=_snapshot(row))
            )
        return _view(row)

    @post("/status", status_code=200)
    async def change_status(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        track_id: str,
        data: SplitSheetStatusChange,
        ctx: CatalogContext,
    ) -> SplitSheetView:
        owner_id = actor_of(request).require_user()
        async with ctx.sessions() as session, session.begin():
            await owned_track(session, track_id, org_id, owner_id)
            current = (
                await session.execute(
                    select(split_sheets)
                    .where(split_sheets.c.track_id == track_id)
                    .with_for_update()
                )
            ).one_or_none()
            if current is None:
                raise not_found("split sheet", track_id=track_id)
            if current.status == data.status:
                return _view(current)
            if not can_move(current.status, data.status):
                raise ApiError(
                    ErrorCode.CONFLICT,
                    f"a {current.status} split sheet cannot become {data.status}",
                    details={"status": current.status, "requested": data.status},
                )
            row = (
                await session.execute(
                    update(split_sheets)
                    .where(split_sheets.c.id == current.id)
                    .values(status=data.status, updated_at=func.now())
                    .returning(split_sheets)
                )
            ).one()
            await emit(
                ctx, session, SplitSheetChanged(action="updated", split_sheet=_snapshot(row))
            )
        return _view(row)


class SplitSheetSnapshotController(Controller):
    """For sharing's read-through replica: a track's split sheet."""

    path = "/internal/tracks/{track_id:str}/split-sheet"

    @get("/snapshot")
    async def snapshot(self, track_id: str, ctx: CatalogContext) -> SplitSheetSnapshot:
        async with ctx.sessions() as session:
            row = (
                await session.execute(
                    select(split_sheets).where(split_sheets.c.track_id == track_id)
                )
            ).one_or_none()
        if row is None:
            raise not_found("split sheet", track_id=track_id)
        return _snapshot(row)
