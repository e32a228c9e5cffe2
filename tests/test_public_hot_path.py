"""Track-link opens are coalesced into batches (gateway/batching.py, sharing's
track_link_opens.py): every caller still gets the answer for its own token, and every view
is counted exactly once, whatever else shares its batch."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpx

from devstack.suite import Suite
from tests.conftest import Artist, assert_error, eventually, link_stats, upload


def share(api: httpx.Client, artist: Artist) -> dict[str, str]:
    track = upload(api, artist)
    response = api.post(
        f"/v1/music/{artist.organization_id}/tracks/{track['id']}/share", headers=artist.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def batched_opens(gateway_url: str) -> tuple[float, float]:
    """(batches, items) sent so far from the gateway's coalescer metric."""
    text = httpx.get(f"{gateway_url}/metrics").text

    def value(name: str) -> float:
        match = re.search(rf'^{name}{{upstream="sharing.track_link_opens"}} (\S+)$', text, re.M)
        return float(match.group(1)) if match else 0.0

    return value("encore_gateway_batch_size_count"), value("encore_gateway_batch_size_sum")


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
    batches_before, items_before = batched_opens(suite.gateway_url)

    async def open_all() -> list[tuple[str, httpx.Response]]:
        plan = [(link["token"], f"v{n}") for link in links for n in range(opens_per_link)]
        plan += [(revoked["token"], "r"), ("shr_" + "0" * 32, "u")]
        plan += [(links[0]["token"], "owner")]  # the owner's own preview, with its key
        async with httpx.AsyncClient(base_url=suite.gateway_url, timeout=30) as client:

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
    batches, items = batched_opens(suite.gateway_url)
    assert items - items_before == len(results)
    assert batches - batches_before < items - items_before, "no two opens shared a batch"

    for link, artist in zip(links, [owner, owner, other], strict=True):

        def counted(link_id: str = link["id"], artist: Artist = artist) -> dict[str, int] | None:
            stats = link_stats(api, artist, link_id)
            return stats if stats["views"] >= opens_per_link else None

        stats = eventually(counted)
        assert stats["views"] == opens_per_link, "the owner's preview is not a view"
        assert stats["unique_visitors"] == opens_per_link
