"""claim by the facts' key, partial fact indexes, "C" collation on ingest keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 07:20:00.000000

`processed_events` duplicated the facts' primary key: every applied engagement is a fact,
and the other events (owner previews, link lifecycle) have no effect or an idempotent one,
so the facts' key alone is the claim. Changing a column's collation rebuilds its indexes,
not the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = {
    "engagement_facts": ("link_id", "track_id", "pack_id"),
    "link_visitors": ("link_id", "visitor_key"),
    "play_windows": ("track_id", "listener_key"),
    "link_stats": ("link_id",),
}
FACT_INDEXES = {
    "ix_facts_link_time": "link_id",
    "ix_facts_track_time": "track_id",
    "ix_facts_pack_time": "pack_id",
}


def _collate(collation: str | None) -> None:
    for table, columns in KEYS.items():
        for column in columns:
            op.alter_column(
                table,
                column,
                type_=sa.Text(collation=collation),
                existing_type=sa.Text(),
                schema="analytics",
            )


def upgrade() -> None:
    op.drop_table("processed_events", schema="analytics")
    for name in FACT_INDEXES:
        op.drop_index(name, table_name="engagement_facts", schema="analytics")
    _collate("C")
    for name, column in FACT_INDEXES.items():
        op.create_index(
            name,
            "engagement_facts",
            [column, "occurred_at"],
            unique=False,
            schema="analytics",
            postgresql_where=sa.text(f"{column} is not null"),
        )


def downgrade() -> None:
    for name in FACT_INDEXES:
        op.drop_index(name, table_name="engagement_facts", schema="analytics")
    _collate(None)
    for name, column in FACT_INDEXES.items():
        op.create_index(
            name, "engagement_facts", [column, "occurred_at"], unique=False, schema="analytics"
        )
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("event_id", name="processed_events_pkey"),
        schema="analytics",
    )
    op.execute(
        "insert into analytics.processed_events (event_id) "
        "select event_id from analytics.engagement_facts"
    )
