"""Sharing tables, all in the `sharing` schema."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from servicekit.outbox import outbox_table

SCHEMA = "sharing"
metadata = MetaData(schema=SCHEMA)

share_links = Table(
    "share_links",
    metadata,
    Column("id", Text, primary_key=True),
    Column("kind", Text, nullable=False),  # ref | track | pack | split_sheet
    Column("organization_id", Text, nullable=False),
    Column("owner_id", Text, nullable=False),
    Column("track_id", Text),
    Column("pack_id", Text),
    Column("split_sheet_id", Text),
    Column("visibility", Text, nullable=False, server_default="link_only"),
    Column("name", Text),
    Column(
        "token_hash", Text, unique=True
    ),  # SHA-256 of the token or ref code; never the raw value
    Column("token_preview", Text),
    Column("slug", Text, unique=True),
    Column("grantees", JSONB, nullable=False, server_default="[]"),  # handles (pack links)
    Column("access_code_hash", Text),
    Column("disable_downloads", Boolean, nullable=False, server_default=text("false")),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_share_links_org_created", "organization_id", "created_at"),
    Index("ix_share_links_track", "track_id"),
    # the org list filtered by kind, track or pack, read newest first (created_at, id) from
    # the index, however many of the org's links do not match (migration 0004)
    Index("ix_share_links_org_kind_created", "organization_id", "kind", "created_at", "id"),
    Index(
        "ix_share_links_org_track_created",
        "organization_id",
        "track_id",
        "created_at",
        "id",
        postgresql_where=text("track_id is not null"),
    ),
    Index(
        "ix_share_links_org_pack_created",
        "organization_id",
        "pack_id",
        "created_at",
        "id",
        postgresql_where=text("pack_id is not null"),
    ),
)

# What sharing knows about catalog tracks, fed by `catalog.lifecycle` (and read-through
# from catalog's internal API when an event has not arrived yet).
track_replica = Table(
    "track_replica",
    metadata,
    Column("track_id", Text, primary_key=True),
    Column("organization_id", Text, nullable=False),
    Column("owner_id", Text, nullable=False),
    Column("visibility", Text, nullable=False),
    Column("snapshot", Text, nullable=False),  # the TrackSnapshot JSON it came from
    Column("source_updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
)

pack_replica = Table(
    "pack_replica",
    metadata,
    Column("pack_id", Text, primary_key=True),
    Column("organization_id", Text, nullable=False),
    Column("owner_id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text),
    Column("track_ids", JSONB, nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    # the version of the pack this row holds (PackChanged.updated_at); older ones are ignored
    Column("source_updated_at", DateTime(timezone=True)),
)

split_sheet_replica = Table(
    "split_sheet_replica",
    metadata,
    Column("track_id", Text, primary_key=True),
    Column("split_sheet_id", Text, nullable=False),
    Column("snapshot", Text, nullable=False),  # the SplitSheetSnapshot JSON
    Column("source_updated_at", DateTime(timezone=True), nullable=False),
)

outbox = outbox_table(metadata)
