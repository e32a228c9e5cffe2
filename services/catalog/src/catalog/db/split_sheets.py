"""Split-sheet persistence: one sheet per track."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.db.models import split_sheets


async def of_track(session: AsyncSession, track_id: str, *, lock: bool = False) -> Any:
    stmt = select(split_sheets).where(split_sheets.c.track_id == track_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).one_or_none()


async def put_draft(session: AsyncSession, values: dict[str, Any]) -> Any:
    """Insert the track's sheet, or replace its contributors and set it back to draft unless
    it is signed; returns the row, or None if the sheet is signed (and unchanged)."""
    stmt = insert(split_sheets).values(**values, status="draft")
    return (
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


async def set_status(session: AsyncSession, sheet_id: str, status: str) -> Any:
    return (
        await session.execute(
            update(split_sheets)
            .where(split_sheets.c.id == sheet_id)
            .values(status=status, updated_at=func.now())
            .returning(split_sheets)
        )
    ).one()
