"""indexes for the org link list filtered by kind, track or pack

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 18:40:00.000000

The org's list (`GET /internal/orgs/{org}/shares`) filters by `kind`, `track_id` or
`pack_id` in SQL: each filter has an index on (organization_id, filter, created_at, id), so
a page is read newest first from it without scanning the org's other links. Track and pack
ids are null on the other kinds' links, so those two are partial.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILTERS = {
    "ix_share_links_org_kind_created": ("kind", None),
    "ix_share_links_org_track_created": ("track_id", "track_id is not null"),
    "ix_share_links_org_pack_created": ("pack_id", "pack_id is not null"),
}


def upgrade() -> None:
    for name, (column, where) in FILTERS.items():
        op.create_index(
            name,
            "share_links",
            ["organization_id", column, "created_at", "id"],
            unique=False,
            schema="sharing",
            postgresql_where=sa.text(where) if where else None,
        )


def downgrade() -> None:
    for name in FILTERS:
        op.drop_index(name, table_name="share_links", schema="sharing")
