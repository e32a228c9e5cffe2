"""Rules about share links that need no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts.events import TrackSnapshot


def link_expiry(now: datetime, expires_in_days: int | None, max_days: int) -> datetime | None:
    """Links never expire unless asked; longer than `max_days` is clamped to it."""
    if expires_in_days is None:
        return None
    return now + timedelta(days=min(expires_in_days, max_days))


def is_live(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
    return revoked_at is None and (expires_at is None or expires_at > now)


def track_is_shareable(track: TrackSnapshot | None, deleted: bool) -> bool:
    """A link resolves only to a track that still exists and is public."""
    return track is not None and not deleted and track.visibility == "public"
