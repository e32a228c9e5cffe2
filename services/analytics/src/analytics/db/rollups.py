"""What ingest keeps beside the facts so that a report reads counters, not a row per fact.

- `engagement_daily`: counted engagements per scope (link, pack, track), UTC day, type,
  source, preview reason and device. A report's totals, sources, devices, previews and
  daily series are sums over a few rows per day instead of passes over every fact.
- `scope_keys` and `scope_uniques`: each scope's distinct visitors, sessions and anonymous
  listeners, and their counts, all time. A key counts when its insert adds a row
  (`returning` skips one already there, including one a concurrent consumer added first),
  so the counts stay exact under redelivery and racing consumers, as `link_stats`'s
  unique visitors do. A report with a date range still counts distinct keys over the
  range's facts: a distinct count over an arbitrary range cannot be summed from counters.

Both are written from the facts themselves, in the transaction that copies them (the
facts of the batch, read back by event id), so there is one definition of each rollup:
ingest applies it to a batch, `rebuild` to every fact (migration 0007 and the operator
command `encore-analytics rebuild-rollups`, after a rolling update from a release that did
not keep them). An empty breakdown value is stored as '' (a key column cannot be null);
reports show it as `unknown`, as they show a null.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.domain.batch import PREVIEWED

# `{facts}` is the filter on the facts: a batch's, or every fact
_ADD_DAILY = """
    insert into analytics.engagement_daily as d (scope, scope_id, day, type, source, reason,
      browser, os, device_class, n)
    select s.scope, s.scope_id, (f.occurred_at at time zone 'UTC')::date, f.type,
      coalesce(f.source, ''), coalesce(f.reason, ''), coalesce(f.browser, ''),
      coalesce(f.os, ''), coalesce(f.device_class, ''), count(*)
    from analytics.engagement_facts f {scopes}
    where s.scope_id is not null and f.counted and {facts}
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9
    order by 1, 2, 3, 4, 5, 6, 7, 8, 9
    on conflict (scope, scope_id, day, type, source, reason, browser, os, device_class)
      do update set n = d.n + excluded.n"""
# the uniques of SPEC §9: people's engagements (previews apart) by visitor and by session,
# and anonymous plays by listener
_ADD_UNIQUES = """
    with new_keys as (
      insert into analytics.scope_keys (scope, scope_id, kind, key)
      select distinct s.scope, s.scope_id, k.kind, k.key
      from analytics.engagement_facts f {scopes}
      cross join lateral (values
        ('visitor', case when f.type <> '{previewed}' then f.visitor_key end),
        ('session', case when f.type <> '{previewed}' then f.session_id end),
        ('anonymous_listener',
          case when f.type = 'track.played' and f.user_id is null then f.listener_key end))
        as k(kind, key)
      where s.scope_id is not null and k.key is not null and {facts}
      order by 1, 2, 3, 4
      on conflict do nothing
      returning scope, scope_id, kind
    )
    insert into analytics.scope_uniques as u (scope, scope_id, visitors, sessions,
      anonymous_listeners)
    select scope, scope_id, count(*) filter (where kind = 'visitor'),
      count(*) filter (where kind = 'session'),
      count(*) filter (where kind = 'anonymous_listener')
    from new_keys group by 1, 2 order by 1, 2
    on conflict (scope, scope_id) do update set
      visitors = u.visitors + excluded.visitors,
      sessions = u.sessions + excluded.sessions,
      anonymous_listeners = u.anonymous_listeners + excluded.anonymous_listeners"""
# the scopes a fact belongs to (a null one is skipped)
SCOPES = """
    cross join lateral (values ('link', f.link_id), ('pack', f.pack_id), ('track', f.track_id))
      as s(scope, scope_id)"""


def _over(template: str, facts: str) -> str:
    return template.format(scopes=SCOPES, previewed=PREVIEWED, facts=facts)


BATCH = "f.event_id = any($1::uuid[])"
# asyncpg's numbered parameters: ingest binds the batch's fact ids once per statement
ADD_DAILY = _over(_ADD_DAILY, BATCH)
ADD_UNIQUES = _over(_ADD_UNIQUES, BATCH)

EVERY_FACT = "true"
ROLLUP_TABLES = ("engagement_daily", "scope_keys", "scope_uniques")


async def add_batch(conn: Any, fact_ids: list[uuid.UUID]) -> None:
    """A batch's facts (just copied, same transaction) into the rollups: two statements."""
    await conn.execute(ADD_DAILY, fact_ids)
    await conn.execute(ADD_UNIQUES, fact_ids)


def rebuild_statements() -> list[str]:
    """Every fact into empty rollups, with inserts of facts held off meanwhile (SHARE)."""
    return [
        "lock table analytics.engagement_facts in share mode",
        f"truncate {', '.join(f'analytics.{t}' for t in ROLLUP_TABLES)}",
        _over(_ADD_DAILY, EVERY_FACT),
        _over(_ADD_UNIQUES, EVERY_FACT),
    ]


async def rebuild(session: AsyncSession) -> int:
    """Recompute the rollups from every fact, in the caller's transaction (it must be
    one: the lock is held until it ends); returns the daily rows written."""
    for statement in rebuild_statements():
        await session.execute(text(statement))
    return int(
        (
            await session.execute(text("select count(*) from analytics.engagement_daily"))
        ).scalar_one()
    )
