"""Which listening beacons are recorded: one through a live link that holds its track, or
one unattributed for a public track. Pure: the service looks the links, tracks and packs
up first (sharing/service/listens.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from contracts.dto import ListenReport
from contracts.events import TrackSnapshot
from contracts.hashing import hash_secret
from sharing.domain.links import holds_track, is_live, track_is_shareable


def wanted_kind(report: ListenReport) -> str | None:
    """The kind of link the beacon names (a slug names a pack), or None: unattributed."""
    if report.slug:
        return "pack"
    if report.ref:
        return "ref"
    if report.link_id or report.token_hash:
        return "track"
    return None


def named_link(
    report: ListenReport,
    by_id: Mapping[str, Any],
    by_hash: Mapping[str, Any],
    by_slug: Mapping[str, Any],
) -> Any:
    """The link row the beacon names, by id, token hash, ref code or slug (in that order)."""
    if report.link_id:
        return by_id.get(report.link_id)
    if report.token_hash:
        return by_hash.get(report.token_hash)
    if report.ref:
        return by_hash.get(hash_secret(report.ref))
    if report.slug:
        return by_slug.get(report.slug)
    return None


def link_refusal(report: ListenReport, link: Any, now: datetime) -> str | None:
    """`link_unavailable` when the beacon names a link that is not a live one of its kind."""
    wanted = wanted_kind(report)
    if wanted is None:
        return None
    if link is None or link.kind != wanted or not is_live(link.revoked_at, link.expires_at, now):
        return "link_unavailable"
    return None


def refusal(
    report: ListenReport,
    link: Any,
    pack: Any,
    track: TrackSnapshot | None,
    deleted: bool,
    now: datetime,
) -> str | None:
    """Why the beacon is not recorded, or None. `pack`: the replica row of a pack link's pack
    (None when gone, or for other links)."""
    reason = link_refusal(report, link, now)
    if reason is not None:
        return reason
    if wanted_kind(report) is not None and not holds_track(link, pack, report.track_id):
        return "track_not_in_link"
    if not track_is_shareable(track, deleted):
        return "track_unavailable"
    return None
