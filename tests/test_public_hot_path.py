"""Opening a track link: answered from the gateway's resolved-link cache when it can be
(gateway/link_cache.py), resolved by sharing in coalesced batches when it cannot, its view
handed to sharing in batches afterwards (gateway/visits.py). Every caller gets the answer
for its own token, every view counts exactly once, and a revoked or hidden link stops
opening: at once through the gateway that revoked it, within an event's trip otherwise."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from contracts import topics
from contracts.ids import new_event_id
from devstack.suite import Suite
from gateway.settings import GatewaySettings
from servicekit.internal import INTERNAL_TOKEN_HEADER, USER_ID_HEADER
from tests.conftest import (
    BROWSER_AGENT,
    Artist,
    assert_error,
    eventually,
    link_stats,
    read_events,
    revoked_behind_the_gateways_back,
    upload,
    warm,
)

# a revocation's event reaches the gateway well within this; a cached entry the event did
# not reach would open until the cache's TTL (GatewaySettings.track_link_cache_ttl_seconds)
EVENT_TRIP = 0.6 * GatewaySettings.model_fields["track_link_cache_ttl_seconds"].default
FRONT_TRACE = "5c1ab2d3e4f5061728394a5b6c7d8e9f"


def share(api: httpx.Client, artist: Artist, track: dict[str, Any] | None = None) -> dict[str, str]:
    """A track link to `track`, or to a new track of the artist's."""
    track = track or upload(api, artist)
    response = api.post(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/share", headers=artist.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def open_link(api: httpx.Client, token: str, visitor: str) -> httpx.Response:
    return api.get(f"/v1/public/track-links/{token}", params={"visitorId": visitor})


def test_concurrent_opens_of_many_links_each_get_their_own_answer_and_count_once(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist], client_address: str
) -> None:
    owner, other = new_artist(), new_artist()
    links = [share(api, owner), share(api, owner), share(api, other)]
    revoked = share(api, owner)
    assert (
        api.delete(
            f"/v1/music/{owner.organization_id}/shares/{revoked['id']}", headers=owner.headers
        ).status_code
        == 204
    )
    opens_per_link = 30

    async def open_all() -> list[tuple[str, httpx.Response]]:
        plan = [(link["token"], f"v{n}") for link in links for n in range(opens_per_link)]
        plan += [(revoked["token"], "r"), ("shr_" + "0" * 32, "u")]
        plan += [(links[0]["token"], "owner")]  # the owner's own preview, with its key
        async with httpx.AsyncClient(
            base_url=suite.gateway_url, timeout=30, headers={"user-agent": BROWSER_AGENT}
        ) as client:

            async def open_one(token: str, visitor: str) -> tuple[str, httpx.Response]:
                headers = {"X-Forwarded-For": client_address}
                if visitor == "owner":
                    headers.update(owner.headers)
                response = await client.get(
                    f"/v1/public/track-links/{token}",
                    params={"visitorId": visitor},
                    headers=headers,
                )
                return token, response

            return await asyncio.gather(*(open_one(t, v) for t, v in plan))

    results = asyncio.run(open_all())

    link_of_token = {link["token"]: link["id"] for link in links}
    for token, response in results:
        if token in link_of_token:
            assert response.status_code == 200, response.text
            assert response.json()["link"]["id"] == link_of_token[token]
        else:
            assert_error(response, 404, "TRACK_LINK_UNAVAILABLE")
    # concurrent opens share upstream calls (services/gateway/tests/test_batching.py shows
    # the coalescing); here: whatever the batching, each open is one view, once

    for link, artist in zip(links, [owner, owner, other], strict=True):

        def counted(link_id: str = link["id"], artist: Artist = artist) -> dict[str, int] | None:
            stats = link_stats(api, artist, link_id)
            return stats if stats["views"] >= opens_per_link else None

        stats = eventually(counted)
        assert stats["views"] == opens_per_link, "the owner's preview is not a view"
        assert stats["unique_visitors"] == opens_per_link


def test_a_cached_link_is_served_without_sharing_and_still_counted(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    link = share(api, artist)
    opened = warm(api, suite, link)
    first = open_link(api, link["token"], "b")
    # sharing would refuse every one of these: only the gateway's cache can answer them
    with revoked_behind_the_gateways_back(suite, link["id"]):
        for n in range(20):
            again = open_link(api, link["token"], f"b{n}")
            assert again.status_code == 200 and again.content == first.content
    eventually(lambda: link_stats(api, artist, link["id"])["views"] == opened + 21)


def test_revoking_through_the_gateway_stops_a_cached_link_at_once(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    link = share(api, artist)
    warm(api, suite, link)
    revoke = api.delete(
        f"/v1/music/{artist.organization_id}/shares/{link['id']}", headers=artist.headers
    )
    assert revoke.status_code == 204
    assert_error(open_link(api, link["token"], "a"), 404, "TRACK_LINK_UNAVAILABLE")


def test_a_revocation_the_gateway_did_not_see_arrives_by_share_lifecycle(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    """As when another gateway replica revoked it: only the event reaches this one."""
    artist = new_artist()
    link = share(api, artist)
    warm(api, suite, link)
    revoke = httpx.delete(
        f"{suite.url('sharing')}/internal/orgs/{artist.organization_id}/shares/{link['id']}",
        headers={INTERNAL_TOKEN_HEADER: suite.internal_token, USER_ID_HEADER: artist.user_id},
    )
    assert revoke.status_code == 204, revoke.text
    # well before the cached entry's TTL would have ended it: the event did
    eventually(lambda: open_link(api, link["token"], "a").status_code == 404, timeout=EVENT_TRIP)


def test_a_track_made_private_stops_its_cached_links(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    link = share(api, artist, track)
    warm(api, suite, link)
    hidden = api.patch(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}",
        data={"visibility": "private"},
        headers=artist.headers,
    )
    assert hidden.status_code == 200, hidden.text
    eventually(lambda: open_link(api, link["token"], "a").status_code == 404, timeout=EVENT_TRIP)


def test_a_visit_batch_sent_twice_counts_once(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    """What the gateway does when sharing committed a batch but the answer was lost."""
    artist = new_artist()
    link = share(api, artist)
    batch = {
        "visits": [
            {
                "event_id": str(new_event_id()),
                "occurred_at": datetime.now(UTC).isoformat(),
                "link_id": link["id"],
                "params": {"visitorId": f"twice-{uuid.uuid4().hex[:6]}-{n}"},
            }
            for n in range(3)
        ]
    }
    for _ in range(2):
        response = httpx.post(
            f"{suite.url('sharing')}/internal/track-link-opens/visits",
            json=batch,
            headers={INTERNAL_TOKEN_HEADER: suite.internal_token},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"recorded": 3}
    eventually(lambda: link_stats(api, artist, link["id"])["views"] == 3)
    # a later event of the link shows the duplicates were applied by now, and not counted
    assert open_link(api, link["token"], "later").status_code == 200
    eventually(lambda: link_stats(api, artist, link["id"])["views"] == 4)


def test_the_front_layer_and_the_litestar_route_answer_alike(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    """Anonymous opens of a cached link are answered in front of Litestar (cached_opens.py);
    a signed-in open of the same link goes through the Litestar route."""
    artist, visitor = new_artist(), new_artist()
    link = share(api, artist)
    route = {"service": "gateway", "method": "GET", "path": "/v1/public/track-links/{token}"}
    warmed = warm(api, suite, link)
    served_before = http_requests(suite, route)
    # both answered from the gateway's cache: sharing would refuse them now. Which of the
    # two the front layer answered is not for a client to tell: it exists for speed
    # (docs/benchmarks.md) and answers exactly as the route does, which is what is checked
    with revoked_behind_the_gateways_back(suite, link["id"]):
        anonymous = api.get(
            f"/v1/public/track-links/{link['token']}",
            params={"visitorId": "anon", "source": "front"},
            headers={"traceparent": f"00-{FRONT_TRACE}-00f067aa0ba902b7-00"},
        )
        signed_in = api.get(
            f"/v1/public/track-links/{link['token']}",
            params={"visitorId": "known"},
            headers=visitor.headers,
        )
    for response in (anonymous, signed_in):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert int(response.headers["content-length"]) == len(response.content)
        assert response.headers["x-encore-db-statements"].isdigit()
        assert re.fullmatch("[0-9a-f]{32}", response.headers["x-request-id"])
    assert anonymous.content == signed_in.content
    assert anonymous.headers["x-request-id"] == FRONT_TRACE  # the caller's trace continued
    assert anonymous.headers["x-encore-db-statements"] == "0"  # nothing asked of anyone
    assert signed_in.headers["x-encore-db-statements"] == "1"  # its key, looked up
    assert http_requests(suite, route) - served_before == 2  # both counted under the route

    # both views recorded, with what each visitor said
    def ours(events: list[Any]) -> list[Any]:
        return [
            e
            for e in events
            if e.payload.link_id == link["id"] and e.payload.visitor.visitor_id in ("anon", "known")
        ]

    events = ours(
        read_events(suite.infra.kafka_bootstrap, topics.SHARE_CLICKED, lambda e: len(ours(e)) == 2)
    )
    eventually(lambda: link_stats(api, artist, link["id"])["views"] == warmed + 2)
    by_visitor = {e.payload.visitor.visitor_id: e for e in events}
    assert by_visitor["anon"].payload.visitor.source == "front"
    assert by_visitor["anon"].trace_id == FRONT_TRACE


def test_a_rate_limited_client_is_refused_even_for_a_cached_link(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    link = share(api, artist)
    warm(api, suite, link)
    # the lookup limit of the gateway under test is 30, and the link's first open was one
    for n in range(29):
        assert open_link(api, f"shr_{n:032x}", "guess").status_code == 404
    response = open_link(api, link["token"], "v")
    assert_error(response, 429, "RATE_LIMITED")
    assert response.headers["retry-after"].isdigit()


def http_requests(suite: Suite, labels: dict[str, str]) -> float:
    found = [
        sample.value
        for family in text_string_to_metric_families(
            httpx.get(suite.ops_url("gateway") + "/metrics").text
        )
        for sample in family.samples
        if sample.name == "encore_http_requests_total"
        and sample.labels == {**labels, "status_code": "200"}
    ]
    return found[0] if found else 0.0
