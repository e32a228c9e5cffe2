"""outbox rows carry the W3C traceparent of the transaction that added them

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 18:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # the relay's consumers continue that trace (servicekit/outbox.py); a row written before
    # holds an old request id, which they take for no trace at all
    op.alter_column("outbox", "trace_id", new_column_name="traceparent", schema="sharing")


def downgrade() -> None:
    op.alter_column("outbox", "traceparent", new_column_name="trace_id", schema="sharing")
