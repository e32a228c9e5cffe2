from typing import Any

from analytics.domain import events as domain
from analytics.domain.batch import FACT_COLUMNS, LINK_COUNTERS, effects_of, visitor_key
from analytics.domain.events import from_envelope
from contracts.events import (
    PackViewed,
    ShareClicked,
    ShareLinkLifecycle,
    TrackDownloaded,
    TrackPlayed,
    Visitor,
    wrap,
)


def applied(envelopes: list[Any]) -> Any:
    """effects_of the events as the consumer decodes them."""
    return effects_of([from_envelope(e) for e in envelopes])


def counts(effects: Any, link: str) -> dict[str, int]:
    return {c: n for c, n in zip(LINK_COUNTERS, effects.link_increments[link], strict=True) if n}


def column(effects: Any, name: str) -> list[Any]:
    return [fact[FACT_COLUMNS.index(name)] for fact in effects.facts]


def test_visitor_key_prefers_visitor_then_session_then_user() -> None:
    visitor = domain.Visitor
    assert visitor_key(visitor(visitor_id="v", session_id="s", user_id="u")) == "v:v"
    assert visitor_key(visitor(session_id="s", user_id="u")) == "s:s"
    assert visitor_key(visitor(user_id="u")) == "u:u"
    assert visitor_key(visitor()) is None


def test_counters_and_uniques_per_link() -> None:
    events = [
        wrap(
            ShareClicked(link_id="l1", link_kind="track", visitor=Visitor(visitor_id="a")),
            producer="t",
        ),
        wrap(
            ShareClicked(link_id="l1", link_kind="track", visitor=Visitor(visitor_id="a")),
            producer="t",
        ),
        wrap(
            TrackPlayed(link_id="l1", track_id="t1", visitor=Visitor(session_id="s")), producer="t"
        ),
        wrap(TrackDownloaded(link_id="l2", track_id="t1"), producer="t"),
        wrap(PackViewed(link_id="l3", pack_id="p1", visitor=Visitor(visitor_id="b")), producer="t"),
    ]
    effects = applied(events)
    assert counts(effects, "l1") == {"views": 2, "plays": 1}
    assert counts(effects, "l2") == {"downloads": 1}
    assert counts(effects, "l3") == {"views": 1}
    assert set(effects.visitors) == {("l1", "v:a"), ("l1", "s:s"), ("l3", "v:b")}
    assert len(effects.facts) == 5


def test_owner_previews_do_not_count() -> None:
    owner = Visitor(user_id="usr_owner")
    events = [
        wrap(
            ShareClicked(link_id="l1", link_kind="track", link_owner_id="usr_owner", visitor=owner),
            producer="t",
        ),
        wrap(
            ShareClicked(
                link_id="l1",
                link_kind="track",
                link_owner_id="usr_owner",
                visitor=Visitor(user_id="x"),
            ),
            producer="t",
        ),
    ]
    effects = applied(events)
    assert counts(effects, "l1") == {"views": 1}
    assert column(effects, "user_id") == ["x"]


def test_lifecycle_events_fill_the_link_registry() -> None:
    created = wrap(
        ShareLinkLifecycle(
            action="created", link_id="l1", link_kind="track", organization_id="o", owner_id="u"
        ),
        producer="t",
    )
    effects = applied([created])
    link_id, kind, organization, owner, _, _, revoked_at = effects.links["l1"]
    assert (link_id, kind, organization, owner, revoked_at) == ("l1", "track", "o", "u", None)
    assert not effects.facts


def test_a_configured_window_replaces_the_track_duration() -> None:
    plays = [
        wrap(
            TrackPlayed(
                link_id="l1", track_id="t1", duration_seconds=180, visitor=Visitor(visitor_id="a")
            ),
            producer="t",
        )
        for _ in range(3)
    ]  # one listener, three plays within milliseconds
    assert counts(applied(plays), "l1") == {"plays": 1}, "the track's 180 s window"
    every = effects_of([from_envelope(e) for e in plays], window_seconds=0)
    assert counts(every, "l1") == {"plays": 3}, "a zero window counts every play"
    assert column(every, "counted") == [True, True, True]
