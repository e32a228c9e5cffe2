"""Analytics tables, all in the `analytics` schema.

Key columns use the "C" collation: ingest inserts into their indexes thousands of times a
second, and byte comparison is cheaper than locale-aware comparison. Only equality and
grouping ever use these keys, which a collation does not change.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    DateTime,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import NUMMULTIRANGE, UUID
from sqlalchemy.types import Date, Float

SCHEMA = "analytics"
metadata = MetaData(schema=SCHEMA)

KEY = Text(collation="C")
SIGNED_IN_PLAY = "type = 'track.played' and user_id is not null"

# One row per applied engagement: the raw material for series and breakdowns. Its primary
# key is also the claim that makes ingest exactly once in effect (see db/apply.py).
engagement_facts = Table(
    "engagement_facts",
    metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("type", Text, nullable=False),
    Column("link_id", KEY),
    Column("link_kind", Text),
    Column("track_id", KEY),
    Column("pack_id", KEY),
    Column("organization_id", Text),
    Column("user_id", Text),
    Column("user_handle", Text),
    Column("user_display_name", Text),
    Column("session_id", Text),
    Column("visitor_key", Text),  # unique-visitor identity: visitorId, else sessionId, else user
    Column("listener_key", Text),  # play identity: user, else visitorId, else sessionId
    Column(
        "counted", Boolean, nullable=False, server_default=text("true")
    ),  # false: inside a dedupe window
    Column("source", Text),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("trace_id", Text),  # the request that caused it, as the gateway assigned it
    # the device (ua-parser families, parsed by the gateway; null before devices were parsed)
    Column("browser", Text),
    Column("os", Text),
    Column("device_class", Text),
    Column("reason", Text),  # share.previewed: why the open was not a view
    # partial: a click has no track and most events no pack, and nothing looks up nulls
    Index(
        "ix_facts_link_time", "link_id", "occurred_at", postgresql_where=text("link_id is not null")
    ),
    Index(
        "ix_facts_track_time",
        "track_id",
        "occurred_at",
        postgresql_where=text("track_id is not null"),
    ),
    Index(
        "ix_facts_pack_time", "pack_id", "occurred_at", postgresql_where=text("pack_id is not null")
    ),
    # a report's signed-in listeners, without passing over the scope's anonymous facts
    *(
        Index(
            f"ix_facts_{scope}_signed_in_plays",
            f"{scope}_id",
            "occurred_at",
            postgresql_where=text(SIGNED_IN_PLAY),
        )
        for scope in ("link", "track", "pack")
    ),
)

# When a listener's play of a track last counted, for the dedupe window.
play_windows = Table(
    "play_windows",
    metadata,
    Column("track_id", KEY, nullable=False),
    Column("listener_key", KEY, nullable=False),
    Column("last_counted_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("track_id", "listener_key"),
)

link_stats = Table(
    "link_stats",
    metadata,
    Column("link_id", KEY, primary_key=True),
    Column("views", BigInteger, nullable=False, server_default="0"),
    Column("plays", BigInteger, nullable=False, server_default="0"),
    Column("downloads", BigInteger, nullable=False, server_default="0"),
    Column("reshares", BigInteger, nullable=False, server_default="0"),
    # distinct visitors of the link, i.e. its rows in `link_visitors`, kept by ingest in the
    # same transaction so that the shares list reads one row per link instead of counting
    Column("unique_visitors", BigInteger, nullable=False, server_default="0"),
    Column("qualified_plays", BigInteger, nullable=False, server_default="0"),
    Column("previews", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

link_visitors = Table(
    "link_visitors",
    metadata,
    Column("link_id", KEY, nullable=False),
    Column("visitor_key", KEY, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("link_id", "visitor_key"),
)

# What analytics knows of each link, from `share.lifecycle`.
links = Table(
    "links",
    metadata,
    Column("link_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("organization_id", Text, nullable=False),
    Column("owner_id", Text, nullable=False),
    Column("track_id", Text),
    Column("pack_id", Text),
    Column("revoked_at", DateTime(timezone=True)),
)

# The claim of each applied `track.listened` event (beacons make no engagement fact: a
# report must not read a row per beacon). Same role as the facts' key (db/apply.py).
applied_beacons = Table(
    "applied_beacons",
    metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
)

# One row per play (a play id of one listener on one track): what the beacons heard, merged.
# Attribution (link, pack, visitor, device, start) is the play's first beacon's.
plays = Table(
    "plays",
    metadata,
    Column("track_id", KEY, nullable=False),
    Column("listener_key", KEY, nullable=False),
    Column("play_id", KEY, nullable=False),
    Column("link_id", KEY),
    Column("link_kind", Text),
    Column("pack_id", KEY),
    Column("organization_id", Text),
    Column("user_id", Text),
    Column("user_handle", Text),
    Column("user_display_name", Text),
    Column("visitor_key", Text),
    Column("session_id", Text),
    Column("source", Text),
    Column("browser", Text),
    Column("os", Text),
    Column("device_class", Text),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("last_heard_at", DateTime(timezone=True), nullable=False),
    Column("duration_seconds", Float),
    Column("heard", NUMMULTIRANGE, nullable=False, server_default=text("'{}'")),
    Column("seconds_heard", Float, nullable=False, server_default="0"),
    Column("furthest_seconds", Float, nullable=False, server_default="0"),
    Column("qualified", Boolean, nullable=False, server_default=text("false")),
    PrimaryKeyConstraint("track_id", "listener_key", "play_id"),
    Index(
        "ix_plays_link_time", "link_id", "started_at", postgresql_where=text("link_id is not null")
    ),
    Index(
        "ix_plays_pack_time", "pack_id", "started_at", postgresql_where=text("pack_id is not null")
    ),
    Index("ix_plays_track_time", "track_id", "started_at"),
)

# Per scope (`link`, `pack`, `track`), each listener's union over all their plays of a track,
# all time: a report without a range reads its 100 most heard by index, not every play.
listener_tracks = Table(
    "listener_tracks",
    metadata,
    Column("scope", Text, nullable=False),
    Column("scope_id", KEY, nullable=False),
    Column("track_id", KEY, nullable=False),
    Column("listener_key", KEY, nullable=False),
    Column("user_handle", Text),
    Column("user_display_name", Text),
    Column("plays", BigInteger, nullable=False, server_default="0"),
    Column("heard", NUMMULTIRANGE, nullable=False, server_default=text("'{}'")),
    Column(
        "seconds_heard",
        Float,
        Computed("analytics.multirange_seconds(heard)", persisted=True),
        nullable=False,
    ),
    Column("furthest_seconds", Float, nullable=False, server_default="0"),
    Column("duration_seconds", Float),
    PrimaryKeyConstraint("scope", "scope_id", "track_id", "listener_key"),
    Index("ix_listener_tracks_most_heard", "scope", "scope_id", text("seconds_heard desc")),
)

# Listening counters per scope (`link`, `pack`, `track`) and UTC day of the play's start,
# kept by ingest in the transaction that merges the beacons, so that a report reads a row
# per day instead of a row per play. `play_starts` also holds the plays counted before
# beacons existed (migration 0006): starts without depth, not in `depth_plays`.
listening_daily = Table(
    "listening_daily",
    metadata,
    Column("scope", Text, nullable=False),
    Column("scope_id", KEY, nullable=False),
    Column("day", Date, nullable=False),
    Column("play_starts", BigInteger, nullable=False, server_default="0"),
    Column("depth_plays", BigInteger, nullable=False, server_default="0"),
    Column("qualified_plays", BigInteger, nullable=False, server_default="0"),
    Column("seconds_heard", Float, nullable=False, server_default="0"),
    Column("reached_25", BigInteger, nullable=False, server_default="0"),
    Column("reached_50", BigInteger, nullable=False, server_default="0"),
    Column("reached_75", BigInteger, nullable=False, server_default="0"),
    Column("reached_100", BigInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint("scope", "scope_id", "day"),
)

# Counted engagements per scope (`link`, `pack`, `track`), UTC day, type and breakdown,
# kept by ingest with the facts (db/rollups.py): a report sums a few rows per day instead
# of passing over every fact. An absent breakdown value is '' (key columns are not null).
engagement_daily = Table(
    "engagement_daily",
    metadata,
    Column("scope", Text, nullable=False),
    Column("scope_id", KEY, nullable=False),
    Column("day", Date, nullable=False),
    Column("type", KEY, nullable=False),
    Column("source", KEY, nullable=False),
    Column("reason", KEY, nullable=False),
    Column("browser", KEY, nullable=False),
    Column("os", KEY, nullable=False),
    Column("device_class", KEY, nullable=False),
    Column("n", BigInteger, nullable=False),
    PrimaryKeyConstraint(
        "scope", "scope_id", "day", "type", "source", "reason", "browser", "os", "device_class"
    ),
)

# Each scope's distinct visitors, sessions and anonymous listeners (kind), all time, and
# their counts: the all-time uniques of a report are one row (db/rollups.py).
scope_keys = Table(
    "scope_keys",
    metadata,
    Column("scope", Text, nullable=False),
    Column("scope_id", KEY, nullable=False),
    Column("kind", KEY, nullable=False),
    Column("key", KEY, nullable=False),
    PrimaryKeyConstraint("scope", "scope_id", "kind", "key"),
)

scope_uniques = Table(
    "scope_uniques",
    metadata,
    Column("scope", Text, nullable=False),
    Column("scope_id", KEY, nullable=False),
    Column("visitors", BigInteger, nullable=False, server_default="0"),
    Column("sessions", BigInteger, nullable=False, server_default="0"),
    Column("anonymous_listeners", BigInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint("scope", "scope_id"),
)
