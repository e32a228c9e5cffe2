"""Recounting `link_stats.unique_visitors` from `link_visitors`, the rows it counts.

Ingest keeps the counter exact on its own. A recount is for what ingest cannot see: consumers
of the release before the counter existed, still running during a rolling update, insert
visitors without counting them. Inserts into `link_visitors` wait while it runs (SHARE lock),
so the counts it writes are exact when it commits; ingest resumes right after.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

LOCK = "lock table analytics.link_visitors in share mode"
RECOUNT = """
    with counted as (
      insert into analytics.link_stats (link_id, unique_visitors)
      select link_id, count(*) from analytics.link_visitors group by link_id order by link_id
      on conflict (link_id) do update set unique_visitors = excluded.unique_visitors
        where link_stats.unique_visitors <> excluded.unique_visitors
      returning link_id
    ), emptied as (
      update analytics.link_stats s set unique_visitors = 0
      where s.unique_visitors <> 0
        and not exists (select from analytics.link_visitors v where v.link_id = s.link_id)
      returning link_id
    )
    select (select count(*) from counted) + (select count(*) from emptied)"""


async def recount_unique_visitors(session: AsyncSession) -> int:
    """Set every link's counter to its number of visitors, in the caller's transaction (the
    lock is held until it ends); returns how many changed."""
    await session.execute(text(LOCK))
    return int((await session.execute(text(RECOUNT))).scalar_one())
