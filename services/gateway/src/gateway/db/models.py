"""Identity tables, all in the `gateway` schema."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    Table,
    Text,
    func,
    text,
)

SCHEMA = "gateway"
metadata = MetaData(schema=SCHEMA)

users = Table(
    "users",
    metadata,
    Column("id", Text, primary_key=True),
    Column("handle", Text, nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

organizations = Table(
    "organizations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("personal", Boolean, nullable=False, server_default=text("false")),
    # whose personal organization this is: set exactly when `personal`, one per user, so the
    # org a user's own things are filed under is found by key, never by picking a membership
    Column("personal_user_id", Text, ForeignKey("gateway.users.id", ondelete="CASCADE")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "personal = (personal_user_id IS NOT NULL)", name="ck_organizations_personal_user"
    ),
    Index(
        "uq_organizations_personal_user",
        "personal_user_id",
        unique=True,
        postgresql_where=text("personal"),
    ),
)

memberships = Table(
    "memberships",
    metadata,
    Column(
        "organization_id",
        Text,
        ForeignKey("gateway.organizations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", Text, ForeignKey("gateway.users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", Text, nullable=False),  # owner | admin | member
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_memberships_user", "user_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Text, primary_key=True),
    Column("user_id", Text, ForeignKey("gateway.users.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("key_hash", Text, nullable=False, unique=True),
    Column("key_preview", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True)),
    Index("ix_api_keys_user", "user_id"),
)

# Membership of a (non-personal) organization is offered, then accepted by the invitee.
# `status` is pending | accepted | declined | cancelled | expired; a pending row past
# `expires_at` counts as expired whether or not it was rewritten yet.
invitations = Table(
    "invitations",
    metadata,
    Column("id", Text, primary_key=True),
    Column(
        "organization_id",
        Text,
        ForeignKey("gateway.organizations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("invitee_id", Text, ForeignKey("gateway.users.id", ondelete="CASCADE"), nullable=False),
    Column("invited_by", Text, ForeignKey("gateway.users.id", ondelete="SET NULL")),
    Column("role", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=text("'pending'")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("responded_at", DateTime(timezone=True)),
    # one open invitation per person and organization: a second invite returns the first
    Index(
        "uq_invitations_pending",
        "organization_id",
        "invitee_id",
        unique=True,
        postgresql_where=text("status = 'pending'"),
    ),
    Index("ix_invitations_invitee", "invitee_id"),
)

# A signed-in dashboard (`/app/…`): an API key exchanged once for a cookie. Only a hash of
# the session id is stored. The session names the key it was made from, so revoking that
# key ends it at once (every request joins the key and checks it is live).
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("id_hash", Text, primary_key=True),
    Column("user_id", Text, ForeignKey("gateway.users.id", ondelete="CASCADE"), nullable=False),
    Column(
        "api_key_id", Text, ForeignKey("gateway.api_keys.id", ondelete="CASCADE"), nullable=False
    ),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),  # the absolute limit
    Index("ix_dashboard_sessions_user", "user_id"),
    Index("ix_dashboard_sessions_api_key", "api_key_id"),
)
