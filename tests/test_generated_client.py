"""A Python client generated from the live `/schema/openapi.json` with openapi-python-client
runs the README's journey with its typed models: if the document leaves a body, a
parameter or a response out, this journey cannot be written against it (issue 12)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from devstack.suite import Suite
from tests.conftest import BROWSER_AGENT, MEDIA, Artist, eventually

PACKAGE = "encore_generated_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def generated(suite: Suite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, imported from a temporary directory."""
    where = tmp_path_factory.mktemp("generated-client")
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--url",
            f"{suite.gateway_url}/schema/openapi.json",
            "--meta",
            "none",
            "--output-path",
            str(where / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def playback_when_ready(token: str, anonymous: Any, timeout: float = 60.0) -> Any:
    """The playback URL, waiting while the track's media is still being processed
    (409 `MEDIA_PROCESSING`), a bounded wait."""
    playback = module("api.public_track_links.public_track_links_playback_url")
    deadline = time.monotonic() + timeout
    while True:
        response = playback.sync_detailed(token, client=anonymous, visitor_id="v-generated")
        processing = (
            response.status_code == 409
            and json.loads(response.content)["error"]["code"] == "MEDIA_PROCESSING"
        )
        if not processing or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def test_the_readme_journey_through_a_generated_client(
    generated: ModuleType,
    suite: Suite,
    new_artist: Callable[[], Artist],
    client_address: str,
) -> None:
    models = module("models")
    types = module("types")
    artist = new_artist()
    org = artist.organization_id

    # the test stack trusts loopback proxies: one forwarded address per test (conftest)
    # (a dict each: the generated AuthenticatedClient writes its Authorization into it)
    # and a browser's User-Agent: an open by httpx's own (a script's) is a preview, not a
    # view (SPEC §9), so a player built on this client passes its listener's on
    def headers() -> dict[str, str]:
        return {"X-Forwarded-For": client_address, "User-Agent": BROWSER_AGENT}

    owner = generated.AuthenticatedClient(
        base_url=suite.gateway_url, token=artist.api_key, headers=headers(), timeout=15
    )
    # the generator types public operations as authenticated, since the document lists the
    # key as optional there ([ApiKey, Bearer, {}]); at run time a plain Client is anonymous
    anonymous = generated.Client(base_url=suite.gateway_url, headers=headers(), timeout=15)

    # upload a track (multipart: the file part and the form fields are in the document)
    upload = module("api.tracks.upload")
    audio = (MEDIA / "tone-3s.mp3").read_bytes()
    form = models.UploadTrackUploadForm(
        file=types.File(payload=BytesIO(audio), file_name="tone-3s.mp3"), title="Generated"
    )
    created = upload.sync_detailed(org, client=owner, body=form)
    assert created.status_code == 201, created.content
    track = created.parsed
    assert isinstance(track, models.TrackView)
    assert (track.title, track.size_bytes) == ("Generated", len(audio))

    # share it with options
    share = module("api.tracks.tracks_share")
    options = models.CreateTrackLink(
        visibility=models.CreateTrackLinkVisibility.LINK_ONLY, expires_in_days=7
    )
    shared = share.sync_detailed(org, track.id, client=owner, body=options)
    assert shared.status_code == 201, shared.content
    link = shared.parsed
    assert isinstance(link, models.ShareLinkCreated)
    assert link.token.startswith("shr_") and link.expires_at is not None

    # open the link anonymously, then get a playback URL
    open_link = module("api.public_track_links.public_track_links_open")
    opened = open_link.sync_detailed(
        link.token, client=anonymous, visitor_id="v-generated", source="generated"
    )
    assert opened.status_code == 200, opened.content
    assert isinstance(opened.parsed, models.TrackLinkView)
    assert opened.parsed.track.title == "Generated"
    played = playback_when_ready(link.token, anonymous)
    assert played.status_code == 200, played.content
    assert isinstance(played.parsed, models.SignedUrl)
    assert "/v1/media/" in played.parsed.url

    # a pack link with an access code: refused without it, open with it
    pack = module("api.packs.packs_create").sync_detailed(
        org, client=owner, body=models.CreatePack(title="Beats", track_ids=[track.id])
    )
    assert pack.status_code == 201, pack.content
    assert isinstance(pack.parsed, models.PackView)
    pack_options = models.CreatePackLink(
        name="For DJs", access_code="letmein", disable_downloads=True
    )
    pack_link = module("api.packs.packs_share").sync_detailed(
        org, pack.parsed.id, client=owner, body=pack_options
    )
    assert pack_link.status_code == 201, pack_link.content
    assert isinstance(pack_link.parsed, models.PackLinkCreated)
    assert pack_link.parsed.has_access_code and pack_link.parsed.disable_downloads
    present = module("api.public_pack_links.public_pack_links_presentation")
    refused = present.sync_detailed(pack_link.parsed.slug, client=anonymous)
    assert refused.status_code == 403
    assert isinstance(refused.parsed, models.ErrorEnvelope)
    assert refused.parsed.error.code.value == "ACCESS_CODE_REQUIRED"
    shown = present.sync_detailed(pack_link.parsed.slug, client=anonymous, access_code="letmein")
    assert shown.status_code == 200, shown.content
    assert isinstance(shown.parsed, models.PackPresentation)

    # the shares list, paged, and the track link's analytics
    page = module("api.shares.list_links").sync_detailed(org, client=owner, limit=20, offset=0)
    assert page.status_code == 200, page.content
    assert isinstance(page.parsed, models.ShareLinkPage)
    assert {item.id for item in page.parsed.items} >= {link.id, pack_link.parsed.id}
    assert (page.parsed.total, page.parsed.limit, page.parsed.offset) == (2, 20, 0)

    report = module("api.analytics.link")

    def counted() -> Any:
        answer = report.sync_detailed(org, link.id, client=owner)
        assert answer.status_code == 200, answer.content
        assert isinstance(answer.parsed, models.LinkReport)
        assert (answer.parsed.totals.views, answer.parsed.totals.plays) == (1, 1)
        return answer.parsed

    analytics = eventually(counted, timeout=30)
    assert analytics.link_id == link.id and analytics.unique_visitors == 1
