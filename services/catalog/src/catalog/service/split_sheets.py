"""Split sheets: one per track, percentages summing to exactly 100, draft -> sent -> signed."""

from __future__ import annotations

from catalog.context import CatalogContext
from catalog.db import split_sheets as repo
from catalog.db import tracks as tracks_repo
from catalog.domain.splits import SplitError, can_move, contributor_records
from catalog.service.events import emit
from catalog.service.tracks import owned_track
from catalog.service.views import split_sheet_snapshot, split_sheet_view
from contracts import ids
from contracts.api.catalog import SplitSheetInput
from contracts.dto import SplitSheetView
from contracts.errors import ErrorCode
from contracts.events import SplitSheetChanged, SplitSheetSnapshot
from servicekit.errors import ApiError, not_found
from servicekit.internal import Actor


async def get_sheet(ctx: CatalogContext, org_id: str, track_id: str) -> SplitSheetView:
    async with ctx.sessions() as session:
        track = await tracks_repo.get_track(session, track_id)
        row = await repo.of_track(session, track_id)
    if track is None or track.organization_id != org_id or row is None:
        raise not_found("split sheet", track_id=track_id)
    return split_sheet_view(row)


async def put_sheet(
    ctx: CatalogContext, org_id: str, track_id: str, actor: Actor, data: SplitSheetInput
) -> SplitSheetView:
    """Create or replace the contributors. A sent sheet goes back to draft (the
    contributors saw another version); a signed sheet cannot change."""
    owner_id = actor.require_user()
    try:
        contributors = contributor_records(data.contributors)
    except SplitError as exc:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            str(exc),
            details={"fields": {"contributors": str(exc)}, **exc.details},
        ) from exc
    async with ctx.sessions() as session, session.begin():
        await owned_track(session, track_id, org_id, owner_id, lock=True)
        row = await repo.put_draft(
            session,
            {
                "id": ids.new_split_sheet_id(),
                "track_id": track_id,
                "organization_id": org_id,
                "owner_id": owner_id,
                "contributors": contributors,
            },
        )
        if row is None:
            raise ApiError(
                ErrorCode.CONFLICT,
                "a signed split sheet cannot change",
                details={"status": "signed"},
            )
        await emit(
            ctx, session, SplitSheetChanged(action="updated", split_sheet=split_sheet_snapshot(row))
        )
    return split_sheet_view(row)


async def change_status(
    ctx: CatalogContext, org_id: str, track_id: str, actor: Actor, status: str
) -> SplitSheetView:
    """Along the status machine only; asking for the current status changes nothing."""
    owner_id = actor.require_user()
    async with ctx.sessions() as session, session.begin():
        await owned_track(session, track_id, org_id, owner_id)
        current = await repo.of_track(session, track_id, lock=True)
        if current is None:
            raise not_found("split sheet", track_id=track_id)
        if current.status == status:
            return split_sheet_view(current)
        if not can_move(current.status, status):
            raise ApiError(
                ErrorCode.CONFLICT,
                f"a {current.status} split sheet cannot become {status}",
                details={"status": current.status, "requested": status},
            )
        row = await repo.set_status(session, current.id, status)
        await emit(
            ctx, session, SplitSheetChanged(action="updated", split_sheet=split_sheet_snapshot(row))
        )
    return split_sheet_view(row)


async def snapshot(ctx: CatalogContext, track_id: str) -> SplitSheetSnapshot:
    """For sharing's read-through replica: a track's split sheet."""
    async with ctx.sessions() as session:
        row = await repo.of_track(session, track_id)
    if row is None:
        raise not_found("split sheet", track_id=track_id)
    return split_sheet_snapshot(row)
