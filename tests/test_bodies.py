"""Bodies are authorised before they are read, and bounded by what each route takes.

Several checks send a request whose head announces a large body but send only its first
bytes, then wait for the answer: a server that read the body before deciding would wait
for the rest, so the socket's timeout would fail the test; one that decides first answers.
"""

from __future__ import annotations

import json
import socket
import wave
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import httpx

from devstack.suite import Suite
from servicekit.internal import INTERNAL_TOKEN_HEADER, USER_HANDLE_HEADER, USER_ID_HEADER
from tests.conftest import MEDIA, Artist, assert_error, upload

MiB = 1024 * 1024


def head_only(
    base_url: str, method: str, path: str, headers: dict[str, str], first_bytes: bytes = b""
) -> tuple[int, dict[str, object]]:
    """Announce `headers["content-length"]` bytes, send only `first_bytes`, and return the
    status and JSON body of the answer."""
    url = urlparse(base_url)
    assert url.hostname is not None and url.port is not None
    lines = [f"{method} {path} HTTP/1.1", f"host: {url.netloc}", "connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + first_bytes)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed without an answer: {received!r}"
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")[1:]
            if line.lower().startswith(b"content-length:")
        )
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed in the middle of the answer"
            body += chunk
    return status, json.loads(body)


def error_code(body: dict[str, object]) -> object:
    error = body["error"]
    assert isinstance(error, dict)
    return error["code"]


def test_an_unauthenticated_body_is_refused_before_it_is_read(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    big = {"name": "x" * 1_000_000}  # 1 MB of JSON
    assert_error(api.post("/v1/organizations", json=big), 401, "AUTHENTICATION_REQUIRED")
    assert_error(
        api.post("/v1/users", json=big, headers={"X-API-Key": "sk_not_the_admin_key"}),
        401,
        "AUTHENTICATION_REQUIRED",
    )
    org = new_artist().organization_id
    json_head = {"content-type": "application/json", "content-length": str(20 * MiB)}
    form_head = {
        "content-type": "multipart/form-data; boundary=b",
        "content-length": str(20 * MiB),
    }
    for path, head, start in [
        ("/v1/organizations", json_head, b'{"name": "' + b"x" * 1024),
        ("/v1/users", {**json_head, "x-api-key": "sk_wrong"}, b'{"handle": "'),
        (f"/v1/music/{org}/albums", json_head, b'{"title": "'),
        (f"/v1/music/{org}/tracks", form_head, b"--b\r\n"),  # an upload route too
    ]:
        status, body = head_only(suite.gateway_url, "POST", path, head, start)
        assert (status, error_code(body)) == (401, "AUTHENTICATION_REQUIRED"), path


def test_membership_is_checked_before_the_body(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    """An outsider's body is never read: the organization is not theirs, so it is a 404
    before the body arrives, whatever it would have said."""
    owner, outsider = new_artist(), new_artist()
    path = f"/v1/organizations/{owner.organization_id}/members"
    response = api.post(path, headers=outsider.headers, json={"handle": "!!", "role": "emperor"})
    assert_error(response, 404, "RESOURCE_NOT_FOUND")
    status, body = head_only(
        suite.gateway_url,
        "POST",
        path,
        {**outsider.headers, "content-type": "application/json", "content-length": str(MiB)},
        b'{"handle": "',
    )
    assert (status, error_code(body)) == (404, "RESOURCE_NOT_FOUND")


def test_json_routes_take_small_bodies_and_uploads_the_upload_limit(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    org = artist.organization_id
    for path, body in [
        ("/v1/organizations", {"name": "x" * 200_000}),  # read by the gateway
        (f"/v1/music/{org}/albums", {"title": "x" * 200_000}),  # forwarded to catalog
        (f"/v1/music/{org}/packs", {"title": "x" * 200_000}),
    ]:
        assert_error(api.post(path, headers=artist.headers, json=body), 413, "PAYLOAD_TOO_LARGE")
    status, answer = head_only(
        suite.gateway_url,
        "POST",
        f"/v1/music/{org}/albums",
        {**artist.headers, "content-type": "application/json", "content-length": str(MiB)},
    )
    assert (status, error_code(answer)) == (413, "PAYLOAD_TOO_LARGE")
    # the upload routes take more than a JSON body may be: a 132 KB track, an 83 KB cover
    track = upload(api, artist, "tone-3s.wav")
    assert track["size_bytes"] > 64 * 1024
    album = api.post(f"/v1/music/{org}/albums", headers=artist.headers, json={"title": "Big"})
    with (MEDIA / "cover-1200.jpg").open("rb") as image:
        cover = api.post(
            f"/v1/music/{org}/albums/{album.json()['id']}/cover",
            headers=artist.headers,
            files={"image": ("cover.jpg", image, "image/jpeg")},
        )
    assert cover.status_code == 200, cover.text


def test_a_cover_for_someone_elses_album_is_refused_before_it_is_read(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist]
) -> None:
    owner, other = new_artist(), new_artist()
    album = api.post(
        f"/v1/music/{owner.organization_id}/albums", headers=owner.headers, json={"title": "Own"}
    ).json()
    # not an image, and not their album: 404 (it was 415, the bytes inspected first)
    response = api.post(
        f"/v1/music/{other.organization_id}/albums/{album['id']}/cover",
        headers=other.headers,
        files={"image": ("cover.png", b"not an image " * 1000, "image/png")},
    )
    assert_error(response, 404, "RESOURCE_NOT_FOUND")
    # catalog answers before the body arrives
    status, body = head_only(
        suite.url("catalog"),
        "POST",
        f"/internal/orgs/{other.organization_id}/albums/{album['id']}/cover",
        {
            INTERNAL_TOKEN_HEADER: suite.internal_token,
            USER_ID_HEADER: other.user_id,
            USER_HANDLE_HEADER: other.handle,
            "content-type": "multipart/form-data; boundary=b",
            "content-length": str(5 * MiB),
        },
        b"--b\r\n",
    )
    assert (status, error_code(body)) == (404, "RESOURCE_NOT_FOUND")


def test_free_form_track_fields_are_bounded(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    artist = new_artist()
    track = upload(api, artist)
    url = f"/v1/music/{artist.organization_id}/tracks/{track['id']}"
    for field, value in [
        ("support_gate", json.dumps({"note": "x" * 100_000})),
        ("support_gate", '{"a":' + "[" * 50 + "]" * 50 + "}"),
        ("tags", json.dumps([f"tag{n}" for n in range(21)])),
        ("tags", json.dumps(["x" * 41])),
        ("description", "x" * 5001),
    ]:
        error = assert_error(
            api.patch(url, headers=artist.headers, data={field: value}),
            422,
            "VALIDATION_ERROR",
        )
        assert list(error["details"]["fields"]) == [field], error
    gate = {"type": "follow", "url": "https://example.test/ada"}
    response = api.patch(url, headers=artist.headers, data={"support_gate": json.dumps(gate)})
    assert response.status_code == 200, response.text
    assert response.json()["support_gate"] == gate


def write_wav(path: Path, seconds: int) -> None:
    """Silence, 44.1 kHz 16-bit stereo: 176,400 bytes a second."""
    second = bytes(44_100 * 4)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44_100)
        for _ in range(seconds):
            out.writeframes(second)


def peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


def test_a_large_upload_keeps_catalogs_memory_bounded(
    api: httpx.Client, suite: Suite, new_artist: Callable[[], Artist], tmp_path: Path
) -> None:
    """A catalog replica that takes 64 MB uploads stores a 49 MB one; its peak resident
    memory grows by what a few parts take (the S3 client holds two 5 MiB parts, the form
    parser 1 MiB before it spools to disk), not by the file (it held it whole before)."""
    name = "catalog-large-uploads"
    suite.start("catalog", name=name, env={"ENCORE_MAX_UPLOAD_BYTES": str(64 * MiB)})
    try:
        suite.wait_ready((name,), 60)
        pid = suite.procs[name].pid
        artist = new_artist()
        headers = {
            INTERNAL_TOKEN_HEADER: suite.internal_token,
            USER_ID_HEADER: artist.user_id,
            USER_HANDLE_HEADER: artist.handle,
        }
        source = tmp_path / "long.wav"
        write_wav(source, 280)
        with httpx.Client(base_url=suite.url(name), headers=headers, timeout=120) as catalog:

            def store(path: Path) -> dict[str, object]:
                with path.open("rb") as audio:
                    response = catalog.post(
                        f"/internal/orgs/{artist.organization_id}/tracks",
                        files={"file": (path.name, audio, "application/octet-stream")},
                        data={"title": path.stem},
                    )
                assert response.status_code == 201, response.text
                return dict(response.json())

            store(MEDIA / "tone-3s.wav")  # every step of an upload has run once
            before = peak_rss_bytes(pid)
            track = store(source)
            grown = peak_rss_bytes(pid) - before
        size = source.stat().st_size
        assert track["size_bytes"] == size > 49_000_000
        assert grown < 20 * MiB, f"peak RSS grew {grown} bytes for a {size} byte upload"
        deleted = api.delete(
            f"/v1/music/{artist.organization_id}/tracks/{track['id']}", headers=artist.headers
        )
        assert deleted.status_code == 200, deleted.text
    finally:
        suite.stop(name)
