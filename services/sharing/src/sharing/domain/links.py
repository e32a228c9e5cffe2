"""Rules about share links that need no I/O: who may make, open and count through a link."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from contracts.errors import ErrorCode
from contracts.events import TrackSnapshot
from servicekit.errors import ApiError

# the kinds whose links hand out media URLs (ref codes attribute, split sheets show text)
MEDIA_KINDS = frozenset({"track", "pack"})


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


def visible_to(track: TrackSnapshot | None, deleted: bool, user_id: str | None) -> bool:
    """A track exists for a caller if it is public, or private and theirs."""
    return (
        track is not None
        and not deleted
        and (track.visibility == "public" or track.owner_id == user_id)
    )


def require_public(track: TrackSnapshot, why: str) -> None:
    """409 for a private track: its link would open for nobody (`why` says so to the caller)."""
    if track.visibility != "public":
        raise ApiError(ErrorCode.CONFLICT, why, details={"track_id": track.track_id})


def owned_by(item: Any, org_id: str, user_id: str) -> bool:
    """Only the owner links their track, split sheet or pack, and only in its organization
    (`item`: a track snapshot or a pack replica row; None is nobody's)."""
    return item is not None and item.organization_id == org_id and item.owner_id == user_id


def is_owners_own(user_id: str | None, *owner_ids: str | None) -> bool:
    """Whether the caller is one of these owners (a link's, a track's). An owner opens their
    own pack link without its code or a grant, and an owner's own visit, play or listen is
    never engagement: it is skipped, not recorded."""
    return bool(user_id) and user_id in owner_ids


def may_open_granted(user_id: str | None, handle: str | None, link: Any) -> bool:
    """The signed-in pack-link surface opens for the link's owner and its grantees only."""
    return is_owners_own(user_id, link.owner_id) or (handle or "") in (link.grantees or [])


def holds_track(link: Any, pack: Any, track_id: str) -> bool:
    """Whether a link leads to a track: a pack link to its pack's tracks (`pack`: the replica
    row, None when the pack is gone), any other link to its own track."""
    if link.kind == "pack":
        return pack is not None and track_id in pack.track_ids
    return bool(link.track_id == track_id)


def shareable_in_order(
    track_ids: Sequence[str], found: Mapping[str, tuple[TrackSnapshot | None, bool]]
) -> list[TrackSnapshot]:
    """A pack's tracks as a link shows them: the shareable ones, in the pack's order."""
    tracks = []
    for track_id in track_ids:
        track, deleted = found.get(track_id, (None, True))
        if track is not None and track_is_shareable(track, deleted):
            tracks.append(track)
    return tracks


def clean_grantees(handles: Iterable[str]) -> list[str]:
    """Grantees are handles, compared trimmed and lower-case; each once, sorted."""
    return sorted({g.strip().lower() for g in handles if g.strip()})


def clean_name(name: str | None) -> str | None:
    """A link's name, or None when nothing is left of it."""
    return (name or "").strip() or None
