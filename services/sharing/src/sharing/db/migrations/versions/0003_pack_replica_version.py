"""pack replica keeps the version it holds

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "pack_replica",
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        schema="sharing",
    )


def downgrade() -> None:
    op.drop_column("pack_replica", "source_updated_at", schema="sharing")
