"""listening depth, previews and devices (issue 17, SPEC §9)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 02:10:00.000000

- `engagement_facts` gains the device of each engagement (`browser`, `os`,
  `device_class`) and the `reason` of a preview. Existing facts keep nulls: their device is
  reported as `unknown`, and none of them is a preview (previews did not exist: every open
  was counted as a view, and stays so).
- `link_stats` gains `qualified_plays` and `previews` (0 for existing links: nothing was
  heard or excluded before beacons).
- `plays` (one row per play id, its merged intervals) and `applied_beacons` (the beacons'
  claims) are new and empty.
- `listener_tracks` keeps, per link, pack and track, each listener's union over all their
  plays of each track (all time), so that a report without a date range finds its 100
  most-heard listeners by index; `analytics.multirange_seconds` is the length of a union.
- `listening_daily` keeps listening counters per link, pack and track and UTC day. It is
  backfilled with the counted `track.played` facts as `play_starts`: plays recorded before
  beacons existed are starts without depth (no seconds heard, not qualified, not in
  `depth_plays`, so they do not pull the average down). From now on starts come from
  beacons (a new play id), and `track.played` only feeds `totals.plays` as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = sa.Text(collation="C")

BACKFILL = """
    insert into analytics.listening_daily (scope, scope_id, day, play_starts)
    select scope, scope_id, day, count(*)
    from analytics.engagement_facts f
    cross join lateral (values ('link', f.link_id), ('pack', f.pack_id), ('track', f.track_id))
      as s(scope, scope_id)
    cross join lateral (select (f.occurred_at at time zone 'UTC')::date as day) d
    where f.type = 'track.played' and f.counted and s.scope_id is not null
    group by scope, scope_id, day
    order by scope, scope_id, day"""


MULTIRANGE_SECONDS = """
    create function analytics.multirange_seconds(heard nummultirange) returns float8
    language sql immutable parallel safe
    return coalesce((select sum(upper(r) - lower(r)) from unnest(heard) as r), 0)::float8"""


def upgrade() -> None:
    op.execute(MULTIRANGE_SECONDS)
    for name in ("browser", "os", "device_class", "reason"):
        op.add_column("engagement_facts", sa.Column(name, sa.Text()), schema="analytics")
    for name in ("qualified_plays", "previews"):
        op.add_column(
            "link_stats",
            sa.Column(name, sa.BigInteger(), server_default="0", nullable=False),
            schema="analytics",
        )
    op.create_table(
        "applied_beacons",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="applied_beacons_pkey"),
        schema="analytics",
    )
    op.create_table(
        "plays",
        sa.Column("track_id", KEY, nullable=False),
        sa.Column("listener_key", KEY, nullable=False),
        sa.Column("play_id", KEY, nullable=False),
        sa.Column("link_id", KEY),
        sa.Column("link_kind", sa.Text()),
        sa.Column("pack_id", KEY),
        sa.Column("organization_id", sa.Text()),
        sa.Column("user_id", sa.Text()),
        sa.Column("user_handle", sa.Text()),
        sa.Column("user_display_name", sa.Text()),
        sa.Column("visitor_key", sa.Text()),
        sa.Column("session_id", sa.Text()),
        sa.Column("source", sa.Text()),
        sa.Column("browser", sa.Text()),
        sa.Column("os", sa.Text()),
        sa.Column("device_class", sa.Text()),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_heard_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Float()),
        sa.Column(
            "heard", postgresql.NUMMULTIRANGE(), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("seconds_heard", sa.Float(), server_default="0", nullable=False),
        sa.Column("furthest_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("qualified", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("track_id", "listener_key", "play_id", name="plays_pkey"),
        schema="analytics",
    )
    for name, column in (
        ("ix_plays_link_time", "link_id"),
        ("ix_plays_pack_time", "pack_id"),
    ):
        op.create_index(
            name,
            "plays",
            [column, "started_at"],
            schema="analytics",
            postgresql_where=sa.text(f"{column} is not null"),
        )
    op.create_index("ix_plays_track_time", "plays", ["track_id", "started_at"], schema="analytics")
    op.create_table(
        "listener_tracks",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("scope_id", KEY, nullable=False),
        sa.Column("track_id", KEY, nullable=False),
        sa.Column("listener_key", KEY, nullable=False),
        sa.Column("user_handle", sa.Text()),
        sa.Column("user_display_name", sa.Text()),
        sa.Column("plays", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "heard", postgresql.NUMMULTIRANGE(), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column(
            "seconds_heard",
            sa.Float(),
            sa.Computed("analytics.multirange_seconds(heard)", persisted=True),
            nullable=False,
        ),
        sa.Column("furthest_seconds", sa.Float(), server_default="0", nullable=False),
        sa.Column("duration_seconds", sa.Float()),
        sa.PrimaryKeyConstraint(
            "scope", "scope_id", "track_id", "listener_key", name="listener_tracks_pkey"
        ),
        schema="analytics",
    )
    op.create_index(
        "ix_listener_tracks_most_heard",
        "listener_tracks",
        ["scope", "scope_id", sa.text("seconds_heard desc")],
        schema="analytics",
    )
    op.create_table(
        "listening_daily",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("scope_id", KEY, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), server_default="0", nullable=False)
            for name in ("play_starts", "depth_plays", "qualified_plays")
        ),
        sa.Column("seconds_heard", sa.Float(), server_default="0", nullable=False),
        *(
            sa.Column(f"reached_{p}", sa.BigInteger(), server_default="0", nullable=False)
            for p in (25, 50, 75, 100)
        ),
        sa.PrimaryKeyConstraint("scope", "scope_id", "day", name="listening_daily_pkey"),
        schema="analytics",
    )
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("listening_daily", schema="analytics")
    op.drop_table("listener_tracks", schema="analytics")
    op.execute("drop function analytics.multirange_seconds(nummultirange)")
    op.drop_table("plays", schema="analytics")
    op.drop_table("applied_beacons", schema="analytics")
    for name in ("qualified_plays", "previews"):
        op.drop_column("link_stats", name, schema="analytics")
    for name in ("browser", "os", "device_class", "reason"):
        op.drop_column("engagement_facts", name, schema="analytics")
