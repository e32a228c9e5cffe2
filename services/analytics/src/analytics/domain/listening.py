"""Listen depth (SPEC §9), no I/O: what a play heard, and what that adds to the counters.

- A play's seconds heard are the length of the union of its intervals: hearing a part
  again after seeking back adds nothing, and so does a beacon applied twice (the union of
  a set with itself is the set), whatever order beacons arrive in.
- Intervals are clipped to [0, duration] when the duration is known; an empty or reversed
  interval hears nothing.
- A play is qualified once it heard at least min(30 s, half the track); without a
  duration, 30 s.
- Completion is heard ÷ duration; the buckets are a funnel (25, 50, 75, 100 %), and 100 %
  allows the last half second (encoder padding, the `ended` event's rounding).
- Every counter only grows as beacons come: a play's delta is its new state's counts
  minus its old state's, so the counters stay exact however beacons are batched.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

Interval = tuple[float, float]
QUALIFYING_SECONDS = 30.0
END_TOLERANCE_SECONDS = 0.5
ANONYMOUS_PREFIX = "anonymous-"


def merge(intervals: Iterable[Interval], duration: float | None = None) -> list[Interval]:
    """The union of the intervals, sorted and disjoint (touching ones joined)."""
    clipped = []
    for start, end in intervals:
        if not (math.isfinite(start) and math.isfinite(end)):
            continue
        start = max(start, 0.0)
        if duration is not None:
            end = min(end, duration)
        if end > start:
            clipped.append((start, end))
    clipped.sort()
    union: list[Interval] = []
    for start, end in clipped:
        if union and start <= union[-1][1]:
            if end > union[-1][1]:
                union[-1] = (union[-1][0], end)
        else:
            union.append((start, end))
    return union


def seconds_heard(union: list[Interval]) -> float:
    return sum(end - start for start, end in union)


def furthest(union: list[Interval]) -> float:
    return union[-1][1] if union else 0.0


def qualifying_seconds(duration: float | None) -> float:
    if duration is None or duration <= 0:
        return QUALIFYING_SECONDS
    return min(QUALIFYING_SECONDS, duration / 2)


def is_qualified(heard: float, duration: float | None) -> bool:
    return heard >= qualifying_seconds(duration)


def completion(heard: float, duration: float | None) -> float | None:
    """heard ÷ duration in 0..1; None when the duration is unknown."""
    if duration is None or duration <= 0:
        return None
    return min(heard / duration, 1.0)


def reached(heard: float, duration: float | None) -> tuple[bool, bool, bool, bool]:
    """Whether the play reached 25, 50, 75 and 100 % of the track."""
    if duration is None or duration <= 0:
        return (False, False, False, False)
    return (
        heard >= duration * 0.25,
        heard >= duration * 0.5,
        heard >= duration * 0.75,
        heard >= duration - END_TOLERANCE_SECONDS,
    )


@dataclass(frozen=True, slots=True)
class PlayState:
    """What one play has heard so far."""

    union: tuple[Interval, ...] = ()
    duration: float | None = None

    @property
    def heard(self) -> float:
        return seconds_heard(list(self.union))

    @property
    def furthest(self) -> float:
        return furthest(list(self.union))

    @property
    def qualified(self) -> bool:
        return bool(self.union) and is_qualified(self.heard, self.duration)

    def hear(self, intervals: Iterable[Interval], duration: float | None) -> PlayState:
        """This state with more intervals heard (and the duration once known)."""
        known = duration if duration is not None and duration > 0 else self.duration
        return PlayState(tuple(merge([*self.union, *intervals], known)), known)


@dataclass(frozen=True, slots=True)
class Delta:
    """What a play's change adds to its scopes' counters (all >= 0)."""

    seconds: float
    qualified: int
    reached: tuple[int, int, int, int]


def delta(old: PlayState, new: PlayState) -> Delta:
    before = reached(old.heard, old.duration) if old.union else (False,) * 4
    after = reached(new.heard, new.duration)
    return Delta(
        seconds=new.heard - old.heard,
        qualified=int(new.qualified) - int(old.qualified),
        reached=tuple(int(a) - int(b) for a, b in zip(after, before, strict=True)),  # type: ignore[arg-type]
    )


def listener_name(user_handle: str | None, listener_key: str) -> str:
    """A signed-in listener's handle, else `anonymous-` and a short stable hash of the key
    (the visitor id itself is never shown)."""
    if user_handle:
        return user_handle
    return ANONYMOUS_PREFIX + hashlib.sha256(listener_key.encode()).hexdigest()[:10]


_RANGE = re.compile(r"[\[(]([^,]*),([^\])]*)[\])]")


def parse_multirange(text: str) -> list[Interval]:
    """Postgres' text form of a nummultirange (`{[0,10),[20,30.5)}`) as intervals."""
    return [(float(a), float(b)) for a, b in _RANGE.findall(text)]


def format_multirange(union: Iterable[Interval]) -> str:
    return "{" + ",".join(f"[{a!r},{b!r})" for a, b in union) + "}"
