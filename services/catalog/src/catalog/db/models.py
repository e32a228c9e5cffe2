"""Catalog tables, all in the `catalog` schema."""

from __future__ import annotations

from servicekit.outbox import outbox_table
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    MetaData,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "catalog"
metadata = MetaData(schema=SCHEMA)

tracks = Table(
    "tracks",
    metadata,
    Column("id", Text, primary_key=True),
    Column("organization_id", Text, nullable=False),
    Column("owner_id", Text, nullable=False),
    Column("owner_handle", Text),
    Column("owner_display_name", Text),
    Column("title", Text, nullable=False),
    Column("album_id", Text),
    Column("features", JSONB, nullable=False, server_default="[]"),
    Column("tags", JSONB, nullable=False, server_default="[]"),
    Column("description", Text),
    Column("support_gate", JSONB),
    Column("visibility", Text, nullable=False, server_default="public"),
    Column("audio_key", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("duration_seconds", Float),
    Column("checksum_sha256", Text, nullable=False),
    Column("artwork_key", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_tracks_org_created", "organization_id", "created_at"),
)

outbox = outbox_table(metadata)
