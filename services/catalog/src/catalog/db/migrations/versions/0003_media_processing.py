"""media processing state and outputs on tracks (SPEC §7)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def add(column: sa.Column[object]) -> None:
    op.add_column("tracks", column, schema="catalog")


def upgrade() -> None:
    # existing tracks have no renditions yet: they are `processing` until the backfill runs
    add(sa.Column("processing_state", sa.Text(), server_default="processing", nullable=False))
    add(sa.Column("processing_reason", sa.Text(), nullable=True))
    add(sa.Column("processing_attempts", sa.Integer(), server_default="0", nullable=False))
    add(sa.Column("processing_enqueued_at", sa.DateTime(timezone=True), nullable=True))
    add(sa.Column("processed_audio_key", sa.Text(), nullable=True))
    add(sa.Column("media", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    add(sa.Column("loudness_lufs", sa.Float(), nullable=True))
    add(sa.Column("true_peak_dbtp", sa.Float(), nullable=True))
    op.create_index(
        "ix_tracks_processing",
        "tracks",
        ["processing_state", "processing_enqueued_at"],
        schema="catalog",
    )


def downgrade() -> None:
    op.drop_index("ix_tracks_processing", table_name="tracks", schema="catalog")
    for name in (
        "true_peak_dbtp",
        "loudness_lufs",
        "media",
        "processed_audio_key",
        "processing_enqueued_at",
        "processing_attempts",
        "processing_reason",
        "processing_state",
    ):
        op.drop_column("tracks", name, schema="catalog")
