"""personal organizations know their user; invitations

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 19:20:00

`organizations.personal` existed, but not whose personal organization it is: the gateway
took "some personal org the user is a member of", and anyone could add anyone to theirs.

Backfill rule (existing rows). `create_user` inserts the user, their personal organization
and their owner membership in one transaction, and all three `created_at` default to
`now()`, the transaction's start, so they are equal to the microsecond. Hence:

1. a user's personal organization is an organization flagged `personal` with the user's
   exact `created_at`; when more than one pair matches (two users begun in the same
   microsecond), the pair whose membership row also has that `created_at` (the owner row
   `create_user` wrote) wins, then the smallest ids; a pair is kept only when it is the best
   for both the organization and the user, so the result is one-to-one;
2. an organization flagged `personal` that no user claims this way is no longer personal
   (an ordinary organization; members keep their roles);
3. a user left without a personal organization gets a new one, as `create_user` makes it;
4. every user is an owner of their personal organization (a co-owner could have demoted
   or removed them before).

Members that were added to someone's personal organization before this revision keep their
membership (nothing is deleted); no new ones can be added.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from contracts import ids

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CLAIM = """
WITH candidates AS (
    SELECT o.id AS org_id, u.id AS user_id,
           EXISTS (
               SELECT 1 FROM gateway.memberships m
               WHERE m.organization_id = o.id AND m.user_id = u.id
                 AND m.created_at = o.created_at
           ) AS founding
    FROM gateway.organizations o
    JOIN gateway.users u ON u.created_at = o.created_at
    WHERE o.personal
),
ranked AS (
    SELECT org_id, user_id,
           row_number() OVER (PARTITION BY org_id ORDER BY founding DESC, user_id) AS by_org,
           row_number() OVER (PARTITION BY user_id ORDER BY founding DESC, org_id) AS by_user
    FROM candidates
)
UPDATE gateway.organizations o SET personal_user_id = r.user_id
FROM ranked r
WHERE o.id = r.org_id AND r.by_org = 1 AND r.by_user = 1
"""


def upgrade() -> None:
    op.add_column(
        "organizations",
        sa.Column("personal_user_id", sa.Text(), nullable=True),
        schema="gateway",
    )
    op.create_foreign_key(
        "organizations_personal_user_id_fkey",
        "organizations",
        "users",
        ["personal_user_id"],
        ["id"],
        source_schema="gateway",
        referent_schema="gateway",
        ondelete="CASCADE",
    )
    bind = op.get_bind()
    bind.execute(sa.text(_CLAIM))
    bind.execute(
        sa.text(
            "UPDATE gateway.organizations SET personal = false "
            "WHERE personal AND personal_user_id IS NULL"
        )
    )
    orphans = bind.execute(
        sa.text(
            "SELECT u.id, u.display_name FROM gateway.users u WHERE NOT EXISTS ("
            " SELECT 1 FROM gateway.organizations o WHERE o.personal_user_id = u.id)"
            " ORDER BY u.created_at, u.id"
        )
    ).all()
    for user_id, display_name in orphans:
        bind.execute(
            sa.text(
                "INSERT INTO gateway.organizations (id, name, personal, personal_user_id)"
                " VALUES (:id, :name, true, :user_id)"
            ),
            {"id": ids.new_organization_id(), "name": display_name, "user_id": user_id},
        )
    bind.execute(
        sa.text(
            "INSERT INTO gateway.memberships (organization_id, user_id, role)"
            " SELECT id, personal_user_id, 'owner' FROM gateway.organizations"
            " WHERE personal_user_id IS NOT NULL"
            " ON CONFLICT (organization_id, user_id) DO UPDATE SET role = 'owner'"
        )
    )
    op.create_check_constraint(
        "ck_organizations_personal_user",
        "organizations",
        "personal = (personal_user_id IS NOT NULL)",
        schema="gateway",
    )
    op.create_index(
        "uq_organizations_personal_user",
        "organizations",
        ["personal_user_id"],
        unique=True,
        schema="gateway",
        postgresql_where=sa.text("personal"),
    )

    op.create_table(
        "invitations",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("organization_id", sa.Text(), nullable=False),
        sa.Column("invitee_id", sa.Text(), nullable=False),
        sa.Column("invited_by", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'pending'"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["invited_by"], ["gateway.users.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["invitee_id"], ["gateway.users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["gateway.organizations.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        schema="gateway",
    )
    op.create_index(
        "ix_invitations_invitee", "invitations", ["invitee_id"], unique=False, schema="gateway"
    )
    op.create_index(
        "uq_invitations_pending",
        "invitations",
        ["organization_id", "invitee_id"],
        unique=True,
        schema="gateway",
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("uq_invitations_pending", table_name="invitations", schema="gateway")
    op.drop_index("ix_invitations_invitee", table_name="invitations", schema="gateway")
    op.drop_table("invitations", schema="gateway")
    op.drop_index("uq_organizations_personal_user", table_name="organizations", schema="gateway")
    op.drop_constraint(
        "ck_organizations_personal_user", "organizations", schema="gateway", type_="check"
    )
    op.drop_constraint(
        "organizations_personal_user_id_fkey", "organizations", schema="gateway", type_="foreignkey"
    )
    op.drop_column("organizations", "personal_user_id", schema="gateway")
