"""Public album lists are paged, and what finds nothing is cached briefly in bounded space."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from devstack.suite import Suite
from tests.conftest import Artist, assert_error, upload

STATEMENTS = "X-Encore-DB-Statements"


def test_public_album_lists_are_paged(api: httpx.Client, new_artist: Callable[[], Artist]) -> None:
    artist = new_artist()
    created = []
    for n in range(3):
        album = api.post(
            f"/v1/music/{artist.organization_id}/albums",
            headers=artist.headers,
            json={"title": f"Paged {n}"},
        ).json()
        upload(api, artist, title=f"Song {n}", album_id=album["id"])
        created.append(album["id"])
    url = f"/v1/artists/{artist.handle}/albums"

    first = api.get(url, params={"limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 0, 2)
    assert first.headers[STATEMENTS] == "1"  # one join and aggregate, no count per album
    rest = api.get(url, params={"limit": 2, "offset": 2}).json()
    assert (rest["total"], len(rest["items"])) == (3, 1)
    assert sorted(a["id"] for a in page["items"] + rest["items"]) == sorted(created)
    assert all(a["track_count"] == 1 for a in page["items"] + rest["items"])
    past = api.get(url, params={"offset": 10}).json()
    assert (past["total"], past["items"]) == (3, [])

    everything = api.get("/v1/albums", params={"limit": 100}).json()
    assert everything["limit"] == 100 and len(everything["items"]) <= 100
    assert everything["total"] >= 3
    default = api.get("/v1/albums").json()
    assert (default["limit"], default["offset"]) == (20, 0) and len(default["items"]) <= 20
    for path in ("/v1/albums", url):
        for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}):
            error = assert_error(api.get(path, params=params), 422, "VALIDATION_ERROR")
            assert set(error["details"]["fields"]) == set(params), error


def test_a_handle_no_artist_can_have_answers_an_empty_page(api: httpx.Client) -> None:
    response = api.get("/v1/artists/" + "x" * 300 + "/albums")
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 20, "offset": 0}
    assert response.headers[STATEMENTS] == "0"


@contextmanager
def small_cache_gateway(suite: Suite) -> Iterator[httpx.Client]:
    """A gateway replica that keeps at most 50 reads that found nothing, for longer than
    the test takes (so only the bound can drop them)."""
    name = "gateway-small-cache"
    suite.start(
        "gateway",
        name=name,
        env={
            "ENCORE_PUBLIC_CACHE_MAX_MISSES": "50",
            "ENCORE_PUBLIC_CACHE_MISS_TTL_SECONDS": "600",
            "ENCORE_PUBLIC_CACHE_TTL_SECONDS": "600",
        },
    )
    try:
        suite.wait_ready((name,), 60)
        with httpx.Client(base_url=suite.url(name), timeout=15) as client:
            yield client
    finally:
        suite.stop(name)


def test_unknown_handles_do_not_grow_the_public_cache(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    """Whether a read was served from the cache shows in its cost: a cached read costs no
    database statement, one that asks catalog costs one or more."""
    artist = new_artist()
    track = upload(api, artist)  # before the replica starts, which so never hears of it
    with small_cache_gateway(suite) as replica:

        def cost(path: str, status: int = 200) -> int:
            response = replica.get(path)
            assert response.status_code == status, response.text
            return int(response.headers[STATEMENTS])

        page = f"/v1/tracks/{track['id']}"
        assert cost(page) > 0
        assert cost(page) == 0  # cached

        missing = f"/v1/tracks/mtrack_{secrets.token_hex(8)}"
        assert cost(missing, 404) > 0
        assert cost(missing, 404) == 0  # a 404 is cached too, briefly

        unknown = [f"/v1/artists/nobody-{secrets.token_hex(4)}-{n}/albums" for n in range(1_000)]
        for path in unknown:
            assert cost(path) > 0
        assert cost(unknown[-1]) == 0  # the newest misses are kept
        assert cost(unknown[0]) > 0  # the oldest went: no more than 50 are
        assert cost(page) == 0  # and none of them pushed a real page out
