"""Listen depth rules (domain/listening.py and the batch's play merge), without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from analytics.domain.batch import (
    DAILY_COUNTERS,
    FACT_COLUMNS,
    LINK_COUNTERS,
    StoredPlay,
    effects_of,
    listening_effects,
)
from analytics.domain.events import from_envelope
from analytics.domain.listening import (
    PlayState,
    delta,
    format_multirange,
    is_qualified,
    listener_name,
    merge,
    parse_multirange,
    reached,
)
from contracts.events import Device, SharePreviewed, TrackListened, Visitor, wrap

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def heard(*beacons: list[tuple[float, float]], duration: float | None = 180.0) -> PlayState:
    state = PlayState()
    for intervals in beacons:
        state = state.hear(intervals, duration)
    return state


def test_seeking_back_and_replaying_adds_nothing() -> None:
    assert heard([(0, 40)]).heard == 40
    assert heard([(0, 40)], [(10, 30)]).heard == 40, "a part heard again"
    assert heard([(0, 40)], [(20, 60)]).heard == 60, "overlap counts once"
    assert heard([(0, 10)], [(50, 60)]).heard == 20 and heard([(0, 10)], [(50, 60)]).furthest == 60


def test_the_same_beacon_twice_counts_once_in_any_order() -> None:
    beacons: list[list[tuple[float, float]]] = [[(0, 10)], [(10, 25)], [(40, 50)], [(5, 45)]]
    once = heard(*beacons)
    assert heard(*beacons, *beacons).union == once.union
    assert heard(*reversed(beacons)).union == once.union == ((0.0, 50.0),)


def test_intervals_are_clipped_to_the_track_and_empty_ones_ignored() -> None:
    assert merge([(-5, 10), (170, 200), (30, 30), (50, 40)], 180) == [(0, 10), (170, 180)]
    assert merge([(0, float("inf"))]) == []


def test_29_seconds_of_a_3_minute_track_is_a_start_not_qualified() -> None:
    assert not heard([(0, 29)], duration=180).qualified
    assert heard([(0, 29)], [(29, 30)], duration=180).qualified


def test_16_seconds_of_a_30_second_track_is_qualified() -> None:
    assert heard([(0, 16)], duration=30).qualified
    assert not heard([(0, 14)], duration=30).qualified
    assert is_qualified(30, None) and not is_qualified(29.9, None), "no duration: 30 s"


def test_completion_buckets_are_a_funnel_with_the_end_tolerated() -> None:
    assert reached(44, 180) == (False, False, False, False)
    assert reached(45, 180) == (True, False, False, False)
    assert reached(135, 180) == (True, True, True, False)
    assert reached(179.6, 180) == (True, True, True, True)
    assert reached(100, None) == (False, False, False, False)


def test_a_delta_counts_only_what_changed() -> None:
    first = heard([(0, 40)], duration=60)
    more = first.hear([(30, 60)], 60)
    step = delta(first, more)
    assert step.seconds == 20 and step.qualified == 0, "qualified by the first beacon already"
    assert step.reached == (0, 0, 1, 1)
    assert delta(PlayState(), first).qualified == 1
    assert delta(more, more.hear([(0, 60)], 60)) == delta(more, more)


def test_multirange_text_round_trips() -> None:
    union = ((0.0, 10.5), (20.0, 30.25))
    assert tuple(parse_multirange(format_multirange(union))) == union
    assert parse_multirange("{}") == []


def test_anonymous_listeners_get_a_stable_hash_never_their_id() -> None:
    name = listener_name(None, "v:visitor-123")
    assert name.startswith("anonymous-") and "visitor-123" not in name
    assert name == listener_name(None, "v:visitor-123") != listener_name(None, "v:other")
    assert listener_name("jon", "u:usr_1") == "jon"


def beacon(play: str, intervals: list[tuple[float, float]], at: datetime, **kw: Any) -> Any:
    payload = TrackListened(
        link_id="l1",
        link_kind="track",
        track_id="t1",
        play_id=play,
        intervals=tuple(intervals),
        duration_seconds=kw.pop("duration", 180.0),
        visitor=kw.pop("visitor", Visitor(visitor_id="v1")),
        **kw,
    )
    envelope = wrap(payload, producer="t")
    return from_envelope(envelope.model_copy(update={"occurred_at": at}))


def test_a_batch_merges_each_play_and_counts_its_start_once() -> None:
    events = [
        beacon("p1", [(0, 20)], START + timedelta(seconds=20)),
        beacon("p1", [(20, 35)], START + timedelta(seconds=35)),
        beacon("p2", [(0, 10)], START, visitor=Visitor(user_id="usr_1", user_handle="jon")),
    ]
    effects = effects_of(events)
    assert not effects.facts, "beacons make no facts"
    assert len(effects.beacon_claims) == 3
    assert set(effects.beacons) == {("t1", "v:v1", "p1"), ("t1", "u:usr_1", "p2")}
    stored = [
        StoredPlay(key, "{}", None, START, "l1", None, new=True) for key in sorted(effects.beacons)
    ]
    merged = listening_effects(effects.beacons, stored)
    link_day = dict(zip(DAILY_COUNTERS, merged.daily[("link", "l1", START.date())], strict=True))
    assert link_day["play_starts"] == 2 and link_day["depth_plays"] == 2
    assert link_day["qualified_plays"] == 1, "35 s of 180 s qualifies, 10 s does not"
    assert link_day["seconds_heard"] == 45
    assert ("track", "t1", START.date()) in merged.daily
    assert merged.qualified_by_link == {"l1": 1}
    fan = merged.listeners[("link", "l1", "t1", "u:usr_1")]
    assert (fan.plays, fan.union, fan.user_handle) == (1, [(0, 10)], None)
    anonymous = merged.listeners[("track", "t1", "t1", "v:v1")]
    assert (anonymous.plays, anonymous.union, anonymous.furthest) == (1, [(0, 35)], 35)
    # the same play again, already stored: no new start, nothing new heard
    again = [StoredPlay(("t1", "v:v1", "p1"), "{[0,35)}", 180.0, START, "l1", None, new=False)]
    assert not listening_effects(
        {("t1", "v:v1", "p1"): effects.beacons[("t1", "v:v1", "p1")]}, again
    ).daily


def test_previews_are_facts_apart_never_views_or_visitors() -> None:
    device = Device(browser="Slackbot", os="Other", device_class="bot")
    preview = wrap(
        SharePreviewed(
            link_id="l1",
            link_kind="track",
            reason="preview_fetcher",
            visitor=Visitor(visitor_id="v9", device=device),
        ),
        producer="t",
    )
    effects = effects_of([from_envelope(preview)])
    counts = dict(zip(LINK_COUNTERS, effects.link_increments["l1"], strict=True))
    assert counts["previews"] == 1 and counts["views"] == 0
    assert not effects.visitors
    fact = dict(zip(FACT_COLUMNS, effects.facts[0], strict=True))
    assert (fact["reason"], fact["browser"], fact["device_class"]) == (
        "preview_fetcher",
        "Slackbot",
        "bot",
    )
