"""artwork sizes of track artwork and album covers (SPEC §7)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # [{size, key, content_type}] of the current image; NULL for images uploaded before
    # sizes existed (payloads then carry `artwork_sizes: []` and keep `artwork_url`)
    op.add_column(
        "tracks",
        sa.Column("artwork_sizes", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="catalog",
    )
    op.add_column(
        "albums",
        sa.Column("cover_sizes", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        schema="catalog",
    )


def downgrade() -> None:
    op.drop_column("albums", "cover_sizes", schema="catalog")
    op.drop_column("tracks", "artwork_sizes", schema="catalog")
