"""Stats queries: one statement however many links are asked for."""

from __future__ import annotations

from sqlalchemy import String, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.db.models import link_stats, link_visitors
from contracts.dto import LinkStats


async def stats_for_links(session: AsyncSession, link_ids: list[str]) -> dict[str, LinkStats]:
    if not link_ids:
        return {}
    wanted = (
        func.unnest(literal(link_ids, ARRAY(String)))
        .table_valued("link_id")
        .render_derived(name="wanted")
    )
    uniques = (
        select(func.count())
        .select_from(link_visitors)
        .where(link_visitors.c.link_id == wanted.c.link_id)
        .scalar_subquery()
    )
    stmt = select(
        wanted.c.link_id,
        func.coalesce(link_stats.c.views, 0).label("views"),
        func.coalesce(link_stats.c.plays, 0).label("plays"),
        func.coalesce(link_stats.c.downloads, 0).label("downloads"),
        func.coalesce(link_stats.c.reshares, 0).label("reshares"),
        uniques.label("unique_visitors"),
    ).select_from(wanted.outerjoin(link_stats, link_stats.c.link_id == wanted.c.link_id))
    rows = (await session.execute(stmt)).all()
    return {
        row.link_id: LinkStats(
            views=row.views,
            plays=row.plays,
            downloads=row.downloads,
            reshares=row.reshares,
            unique_visitors=row.unique_visitors,
        )
        for row in rows
    }
