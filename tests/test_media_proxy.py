"""Slow media readers cannot starve a gateway (gateway/media.py): each client address has
a few streams at most, a stream that stalls is cut off, and media streams have their own
pool to catalog, so JSON calls and other listeners carry on.

A gateway of its own runs these, with the bounds lowered to what shows them quickly: two
streams per address, four to catalog in all, three seconds of grace before the minimum
rate (2 MiB/s, which a listener on loopback keeps up easily).
The readers are raw sockets with a tiny receive buffer that read the response head and
stop reading, so the gateway's sends block as a stalled player's would.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from minio import Minio

from devstack.suite import Suite
from tests.conftest import Artist, assert_error, eventually, gateway_metric, run_sql, upload
from tests.test_sharing import track_link

GATEWAY = "gateway-media"
PER_CLIENT = 2
POOL = 4
BOUNDS = {
    "ENCORE_MEDIA_MAX_STREAMS": str(POOL),
    "ENCORE_MEDIA_STREAMS_PER_CLIENT": str(PER_CLIENT),
    "ENCORE_MEDIA_STREAM_GRACE_SECONDS": "3",
    "ENCORE_MEDIA_STREAM_MIN_BYTES_PER_SECOND": str(2 * 1024 * 1024),
    "ENCORE_MEDIA_STREAM_MAX_SECONDS": "30",
}


@pytest.fixture(scope="module")
def media_gateway(suite: Suite) -> Iterator[str]:
    suite.start("gateway", name=GATEWAY, env=BOUNDS)
    try:
        suite.wait_ready((GATEWAY,), 60)
        yield suite.url(GATEWAY)
    finally:
        suite.stop(GATEWAY)


LONG_TRACK_BYTES = 6 * 1024 * 1024  # more than any socket buffer here holds (tcp_wmem max 4 MiB)


@pytest.fixture
def long_track_link(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> tuple[str, str]:
    """(token, media URL path) of a track link to a long track: uploads are kept small in
    the tests, so a track's stored object is replaced by a longer one, past the API. It
    must outgrow the buffers between the gateway and a reader, or a reader that stops
    reading would not stop the stream."""
    artist = new_artist()
    track = upload(api, artist)
    # playback streams the AAC rendition (SPEC §7): that is the object made long
    [row] = run_sql(
        suite.database_url("catalog"),
        "SELECT media::text AS media FROM catalog.tracks WHERE id = $1",
        track["id"],
    )
    media = json.loads(row["media"])
    aac = next(r for r in media["renditions"] if r["name"] == "aac")
    aac["size_bytes"] = LONG_TRACK_BYTES
    endpoint = urlsplit(suite.infra.s3_endpoint)
    Minio(
        endpoint.netloc,
        access_key=suite.infra.s3_access_key,
        secret_key=suite.infra.s3_secret_key,
        secure=False,
    ).put_object(
        "encore-media",
        aac["key"],
        io.BytesIO(bytes(LONG_TRACK_BYTES)),
        LONG_TRACK_BYTES,
        content_type="audio/mp4",
    )
    run_sql(
        suite.database_url("catalog"),
        "UPDATE catalog.tracks SET media = $2::jsonb WHERE id = $1",
        track["id"],
        json.dumps(media),
    )
    link = track_link(api, artist, track["id"])
    played = api.get(f"/v1/public/track-links/{link['token']}/playback-url")
    assert played.status_code == 200, played.text
    return link["token"], urlsplit(played.json()["url"]).path


@dataclass
class SlowReader:
    """A listener that read the response head and a few bytes, then stopped reading."""

    sock: socket.socket
    status: int
    length: int
    received: int

    def drain(self) -> int:
        """Read on until the gateway closes the connection (or the whole body came and
        the keep-alive ran out); the body bytes received in all."""
        while True:
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                return self.received
            if not data:
                return self.received
            self.received += len(data)

    def close(self) -> None:
        self.sock.close()


def slow_reader(gateway_url: str, path: str, address: str) -> SlowReader:
    host = urlsplit(gateway_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect((host.hostname or "127.0.0.1", host.port or 80))
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host.netloc}\r\nX-Forwarded-For: {address}\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        data = sock.recv(1024)
        assert data, f"the gateway closed before answering: {head!r}"
        head += data
    head, _, body = head.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    length = int({k.lower(): v for k, v in headers.items()}.get("content-length", "0"))
    return SlowReader(sock, int(lines[0].split()[1]), length, len(body))


def media_get(gateway_url: str, path: str, address: str) -> httpx.Response:
    return httpx.get(f"{gateway_url}{path}", headers={"X-Forwarded-For": address}, timeout=15)


def test_slow_readers_get_a_few_streams_each_and_starve_nobody(
    media_gateway: str, long_track_link: tuple[str, str], client_address: str
) -> None:
    token, path = long_track_link
    readers: list[SlowReader] = []
    try:
        for address in ("10.200.0.1", "10.200.0.2"):  # together they hold the whole pool
            for _ in range(PER_CLIENT):
                readers.append(slow_reader(media_gateway, path, address))
                assert readers[-1].status == 200
            assert_error(media_get(media_gateway, path, address), 429, "RATE_LIMITED")
        assert len(readers) == POOL
        assert all(r.received < r.length for r in readers), "the readers hold their streams"

        # JSON calls have their own pool: they do not wait for a media connection
        with httpx.Client(
            base_url=media_gateway, headers={"X-Forwarded-For": client_address}, timeout=15
        ) as client:
            assert client.get(f"/v1/public/track-links/{token}").status_code == 200
            assert client.get(f"/v1/public/track-links/{token}/playback-url").status_code == 200
            # a listener's playback waits only until a stalled stream is cut off
            played = client.get(path)
            assert played.status_code == 200 and len(played.content) == readers[0].length
    finally:
        for reader in readers:
            reader.close()


def test_a_stream_that_stalls_is_cut_off_by_the_gateway(
    media_gateway: str, long_track_link: tuple[str, str], client_address: str, suite: Suite
) -> None:
    _, path = long_track_link
    cut = gateway_metric(suite.ops_url(GATEWAY), "encore_gateway_media_streams_cut_total")
    reader = slow_reader(media_gateway, path, client_address)
    try:
        assert reader.status == 200 and reader.received < reader.length
        eventually(
            lambda: (
                gateway_metric(suite.ops_url(GATEWAY), "encore_gateway_media_streams_cut_total")
                > cut
            )
        )
        assert reader.drain() < reader.length, "the gateway closed it before the end"
    finally:
        reader.close()
    # its slot was given back: the same address streams again, to the end
    again = media_get(media_gateway, path, client_address)
    assert again.status_code == 200 and len(again.content) == reader.length
