"""Catalog tables, all in the `catalog` schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

from servicekit.outbox import outbox_table

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
    Column(
        "album_id",
        Text,
        ForeignKey("catalog.albums.id", ondelete="SET NULL", name="fk_tracks_album_id"),
    ),
    Column("album_position", Integer),
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
    Column("artwork_content_type", Text),
    # [{size, key, content_type}] made from the current artwork at upload (catalog.service.artwork)
    Column("artwork_sizes", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # SPEC §7, written by the media worker (catalog.worker)
    Column("processing_state", Text, nullable=False, server_default="processing"),
    Column("processing_reason", Text),
    Column("processing_attempts", Integer, nullable=False, server_default="0"),
    Column("processing_enqueued_at", DateTime(timezone=True)),
    Column("processed_audio_key", Text),  # the upload version `media` was made from
    # {"renditions": [{name, key, content_type, codecs, bitrate}], "peaks_key",
    #  "artwork": [{size, key, content_type}]}
    Column("media", JSONB),
    Column("loudness_lufs", Float),
    Column("true_peak_dbtp", Float),
    Index("ix_tracks_org_created", "organization_id", "created_at"),
    Index("ix_tracks_processing", "processing_state", "processing_enqueued_at"),
    Index("ix_tracks_album", "album_id", "album_position"),
)

albums = Table(
    "albums",
    metadata,
    Column("id", Text, primary_key=True),
    Column("organization_id", Text, nullable=False),
    Column("owner_id", Text, nullable=False),
    Column("owner_handle", Text, nullable=False),
    Column("owner_display_name", Text),
    Column("slug", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text),
    Column("cover_key", Text),
    Column("cover_content_type", Text),
    Column("cover_sizes", JSONB),  # like tracks.artwork_sizes, for the cover
    Column("released_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("owner_id", "slug", name="uq_albums_owner_slug"),
    Index("ix_albums_handle_slug", "owner_handle", "slug"),
)

# Slugs an album had before a title change, so old links still find it.
album_slug_history = Table(
    "album_slug_history",
    metadata,
    Column("owner_handle", Text, primary_key=True),
    Column("slug", Text, primary_key=True),
    Column("album_id", Text, ForeignKey("catalog.albums.id", ondelete="CASCADE"), nullable=False),
)

packs = Table(
    "packs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("organization_id", Text, nullable=False),
    Column("owner_id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_packs_org_created", "organization_id", "created_at"),
)

pack_tracks = Table(
    "pack_tracks",
    metadata,
    Column("pack_id", Text, ForeignKey("catalog.packs.id", ondelete="CASCADE"), primary_key=True),
    Column("track_id", Text, ForeignKey("catalog.tracks.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False),
    Index("ix_pack_tracks_track", "track_id"),
)

split_sheets = Table(
    "split_sheets",
    metadata,
    Column("id", Text, primary_key=True),
    Column(
        "track_id",
        Text,
        ForeignKey("catalog.tracks.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("organization_id", Text, nullable=False),
    Column("owner_id", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="draft"),
    Column("contributors", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Objects to remove from storage; rows are written with the deletion that orphans them and
# removed once the object is gone, so a crash between the two only delays the removal.
storage_deletions = Table(
    "storage_deletions",
    metadata,
    Column("key", Text, primary_key=True),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default="0"),
)

outbox = outbox_table(metadata)
