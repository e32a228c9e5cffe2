"""Rules for the ordered track lists of albums and packs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from contracts.errors import ErrorCode
from servicekit.errors import ApiError, validation_error


def require_distinct(track_ids: Sequence[str]) -> None:
    """A list names each track once."""
    if len(set(track_ids)) != len(track_ids):
        raise validation_error("track_ids repeats an id", {"track_ids": "each id once"})


def require_packable(
    track_ids: Sequence[str], found: Mapping[str, Any], org_id: str, owner_id: str
) -> None:
    """Only the owner's own tracks in this org can go in a pack; name the others."""
    require_distinct(track_ids)
    offending = [
        t
        for t in track_ids
        if t not in found or found[t].owner_id != owner_id or found[t].organization_id != org_id
    ]
    if offending:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            "only your own tracks can be added to a pack",
            details={"fields": {"track_ids": "not your tracks"}, "track_ids": offending},
        )


def appended(current: Sequence[str], added: Sequence[str]) -> list[str]:
    """`added` after `current`, in the given order; tracks already there stay where they are."""
    return [*current, *(t for t in added if t not in current)]


def require_permutation(current: Sequence[str], proposed: Sequence[str]) -> None:
    """A reorder lists exactly the tracks already there, each once."""
    if sorted(proposed) != sorted(current) or len(set(proposed)) != len(proposed):
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            "a reorder lists exactly the pack's tracks, each once",
            details={
                "fields": {"track_ids": "must be a permutation of the pack's tracks"},
                "missing": [t for t in current if t not in proposed],
                "unexpected": [t for t in proposed if t not in current],
            },
        )


def require_album_tracks(
    track_ids: Sequence[str], found: Mapping[str, Any], album_id: str, owner_id: str
) -> None:
    """A finalize names only tracks of this album that the caller owns."""
    offending = [
        tid
        for tid in track_ids
        if tid not in found or found[tid].album_id != album_id or found[tid].owner_id != owner_id
    ]
    if offending:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            "every track must be a track of this album owned by the caller",
            details={
                "fields": {"track_ids": "not tracks of this album"},
                "track_ids": offending,
            },
        )


def new_positions(
    track_ids: Sequence[str], found: Mapping[str, Any], last: int
) -> list[tuple[str, int]]:
    """Append-only finalize: tracks without a position get the next ones, in the given
    order, after `last`; positioned tracks keep theirs."""
    positions = []
    for tid in track_ids:
        if found[tid].album_position is None:
            last += 1
            positions.append((tid, last))
    return positions
