"""dashboard sessions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 02:10:00

Server-side sessions of the artist's dashboard (`/app/…`): a hash of the session id, the
user and the API key it was exchanged for, and its idle and absolute limits.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("id_hash", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("api_key_id", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["gateway.users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["api_key_id"], ["gateway.api_keys.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash"),
        schema="gateway",
    )
    op.create_index(
        "ix_dashboard_sessions_user", "dashboard_sessions", ["user_id"], schema="gateway"
    )
    op.create_index(
        "ix_dashboard_sessions_api_key", "dashboard_sessions", ["api_key_id"], schema="gateway"
    )


def downgrade() -> None:
    op.drop_index("ix_dashboard_sessions_api_key", "dashboard_sessions", schema="gateway")
    op.drop_index("ix_dashboard_sessions_user", "dashboard_sessions", schema="gateway")
    op.drop_table("dashboard_sessions", schema="gateway")
