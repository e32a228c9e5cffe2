"""unique visitors counter on link_stats

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 08:03:09.953946

The shares list counted each link's rows of `link_visitors` on every request (about 83,000
index entries for a 100-link page with a million events behind it). Ingest now keeps the
count in `link_stats.unique_visitors`, in the transaction that inserts the visitors; this
backfills it. `link_visitors` is locked against inserts (SHARE) while the counts are taken, so
no visitor committed by a consumer during the migration is missed or counted twice. Links
with visitors but no counted event yet (only plays inside a dedupe window) get a row.

Old consumers still running during a rolling update insert visitors without counting them;
`encore-analytics recount-unique-visitors` (the same statement) repairs that once the rollout
is done.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
    insert into analytics.link_stats (link_id, unique_visitors)
    select link_id, count(*) from analytics.link_visitors group by link_id order by link_id
    on conflict (link_id) do update set unique_visitors = excluded.unique_visitors"""


def upgrade() -> None:
    op.add_column(
        "link_stats",
        sa.Column("unique_visitors", sa.BigInteger(), server_default="0", nullable=False),
        schema="analytics",
    )
    op.execute("lock table analytics.link_visitors in share mode")
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_column("link_stats", "unique_visitors", schema="analytics")
