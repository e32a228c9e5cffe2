"""The gateway's side of a track-link open, with sharing's two calls stood in for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypedDict

import msgspec
import pytest

from contracts.dto import ResolvedTrackLink, TrackLinkView, TrackLinkVisitBatch
from contracts.errors import ErrorCode
from gateway.db.identity import Caller
from gateway.domain.engagement import Agent, agent_of
from gateway.link_cache import TrackLinkCache
from gateway.track_link_opens import TrackLinkOpens, visit_params
from gateway.visits import CLIENT, ENCODER
from servicekit.errors import ApiError
from servicekit.upstream import InternalClient, UpstreamError

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


class Who(TypedDict):
    client: str
    agent: Agent


WHO = Who(client="192.0.2.1", agent=agent_of(CHROME))

VIEW = {
    "link": {
        "id": "mslink_1",
        "target_type": "track",
        "visibility": "link_only",
        "expires_at": None,
        "created_at": "2026-01-01T00:00:00Z",
    },
    "track": {
        "id": "mtrack_1",
        "title": "Tone",
        "artist": {"handle": "ana", "display_name": "Ana"},
        "album_id": None,
        "features": [],
        "tags": [],
        "description": None,
        "duration_seconds": 3.0,
        "content_type": "audio/mpeg",
        "has_artwork": False,
        "artwork_url": None,
        "created_at": "2026-01-01T00:00:00Z",
        "processing_state": "ready",
        "processing_reason": None,
        "peaks_url": None,
        "artwork_sizes": [],
        "loudness_lufs": -14.0,
        "true_peak_dbtp": -1.0,
    },
}


class Sharing:
    def __init__(self) -> None:
        self.down = False
        self.revoked = False
        self.resolved: list[list[str]] = []

    async def resolve(self, tokens: list[str]) -> list[ResolvedTrackLink | None]:
        self.resolved.append(tokens)
        if self.down:
            raise ApiError(ErrorCode.SERVICE_UNAVAILABLE, "sharing unreachable")
        return [
            ResolvedTrackLink(
                link_id="mslink_1",
                track_id="mtrack_1",
                track_updated_at=datetime(2026, 1, 1, tzinfo=UTC),
                expires_at=None,
                view=TrackLinkView.model_validate(VIEW),
            )
            if token == "shr_live" and not self.revoked
            else None
            for token in tokens
        ]


@pytest.fixture
def sharing() -> Sharing:
    return Sharing()


@pytest.fixture
def opens(sharing: Sharing) -> TrackLinkOpens:
    cache = TrackLinkCache(ttl_seconds=60)
    cache.set_enabled(True)
    opens = TrackLinkOpens(InternalClient("sharing", "http://127.0.0.1:9", "t"), cache)
    opens.resolver.send = sharing.resolve
    return opens


async def test_the_first_open_resolves_and_the_next_are_served_from_the_cache(
    opens: TrackLinkOpens, sharing: Sharing
) -> None:
    for _ in range(3):
        assert (
            msgspec.json.decode(await opens.open("shr_live", {}, None, None, **WHO) or b"") == VIEW
        )
    assert sharing.resolved == [["shr_live"]]
    assert await opens.open("shr_unknown", {}, None, None, **WHO) is None
    assert await opens.open("shr_" + "x" * 300, {}, None, None, **WHO) is None  # never sent on
    assert sharing.resolved == [["shr_live"], ["shr_unknown"]]


PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


async def test_every_served_open_queues_a_visit_sharing_accepts(opens: TrackLinkOpens) -> None:
    caller = Caller(user_id="usr_1", handle="ada", display_name="Ada")
    await opens.open("shr_live", {"visitorId": "v1", "source": "x"}, caller, PARENT, **WHO)
    await opens.open("shr_live", {}, None, None, **WHO)
    await opens.open("shr_unknown", {}, None, None, **WHO)
    sent: list[Any] = []

    async def store(visits: list[Any]) -> None:
        sent.extend(visits)

    opens.visits.send = store  # what sharing would be sent, as it is sent
    await opens.visits.drain(5)
    assert opens.visits.pending == 0
    queued = [{k: v for k, v in visit.items() if k != CLIENT} for visit in sent]
    batch = TrackLinkVisitBatch.model_validate_json(ENCODER.encode({"visits": queued}))
    first, second = batch.visits
    assert (first.link_id, first.user_handle, first.params, first.traceparent) == (
        "mslink_1",
        "ada",
        {"visitorId": "v1", "source": "x"},
        PARENT,  # sharing's event continues the trace of the open
    )
    assert first.event_id != second.event_id
    assert first.occurred_at.tzinfo is not None
    assert abs((datetime.now(UTC) - first.occurred_at).total_seconds()) < 5


async def test_while_sharing_is_down_a_link_cached_before_is_still_served(
    opens: TrackLinkOpens, sharing: Sharing
) -> None:
    opens.cache.ttl = 1e-9  # every entry is past its TTL at once
    assert await opens.open("shr_live", {}, None, None, **WHO) is not None
    sharing.down = True
    assert msgspec.json.decode(await opens.open("shr_live", {}, None, None, **WHO) or b"") == VIEW
    with pytest.raises(ApiError) as raised:  # nothing to fall back on: sharing's 503
        await opens.open("shr_never_seen", {}, None, None, **WHO)
    assert raised.value.code is ErrorCode.SERVICE_UNAVAILABLE
    opens.cache.link_revoked("mslink_1")  # revoked: never served stale
    with pytest.raises(ApiError):
        await opens.open("shr_live", {}, None, None, **WHO)


async def test_a_batch_sharing_refuses_as_malformed_is_dropped_not_retried(
    opens: TrackLinkOpens, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def answering(status: int, code: ErrorCode) -> Any:
        async def request(*_: Any, **__: Any) -> None:
            calls.append(code.value)
            raise UpstreamError(code, "sharing said no", status, {})

        return request

    monkeypatch.setattr(opens.sharing, "request", answering(422, ErrorCode.VALIDATION_ERROR))
    await opens.open("shr_live", {}, None, None, **WHO)
    await opens.visits.drain(5)
    assert calls == ["VALIDATION_ERROR"], "refused as malformed: sent once, never again"
    assert opens.visits.pending == 0

    calls.clear()
    monkeypatch.setattr(opens.sharing, "request", answering(503, ErrorCode.SERVICE_UNAVAILABLE))
    await opens.open("shr_live", {}, None, None, **WHO)
    await opens.visits.drain(1.0)  # retried (0.1 s, then 0.2 s, …) until the drain gives up
    assert len(calls) >= 2, calls


async def test_a_link_sharing_said_is_gone_is_never_served_stale(
    opens: TrackLinkOpens, sharing: Sharing
) -> None:
    """Revoked while the event could not reach this gateway: past the TTL sharing says so,
    and a later outage of sharing must not bring the page back."""
    opens.cache.ttl = 1e-9
    assert await opens.open("shr_live", {}, None, None, **WHO) is not None
    sharing.revoked = True
    assert await opens.open("shr_live", {}, None, None, **WHO) is None
    sharing.down = True
    with pytest.raises(ApiError):
        await opens.open("shr_live", {}, None, None, **WHO)


async def test_stale_answers_end_after_the_stale_bound(
    opens: TrackLinkOpens, sharing: Sharing
) -> None:
    opens.cache.ttl = 1e-9
    opens.cache.stale_for = 1e-9  # an entry resolved now may not be served stale at all
    assert await opens.open("shr_live", {}, None, None, **WHO) is not None
    sharing.down = True
    with pytest.raises(ApiError):
        await opens.open("shr_live", {}, None, None, **WHO)


def test_a_visit_keeps_what_the_visitor_said_cleaned_and_small() -> None:
    query = [
        ("visitorId", "first"),
        ("visitorId", "  v\x00\x01" + "x" * 5000),  # the last one counts
        ("sessionId", "   "),
        ("source", "newsletter"),
        ("accessCode", "not-for-a-track-link"),
        ("other", "ignored"),
    ]
    assert visit_params(query) == {"visitorId": "v" + "x" * 119, "source": "newsletter"}
