"""The sharing routes' part of the OpenAPI document says what they take and answer.

The document is built from the gateway itself (in process, no service needed) and checked
against the contract models the routes validate with: a body the document calls valid is
one the route accepts, and each 2xx names its model (SPEC §6).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pydantic import ValidationError

from contracts.api.sharing import ShareEvent, SplitSheetLinkSummary
from gateway.app import create_app
from gateway.settings import GatewaySettings

SHARE_EVENTS = [
    "/v1/public/track-links/{token}/share-events",
    "/v1/public/pack-links/{slug}/share-events",
    "/v1/pack-links/{slug}/share-events",
]
# (method, path, status, the model its body is)
ANSWERS = [
    ("post", "/v1/music/{org}/tracks/{track_id}/share", "201", "ShareLinkCreated"),
    ("get", "/v1/music/{org}/shares", "200", "ShareLinkPage"),
    ("get", "/v1/public/track-links/{token}", "200", "TrackLinkView"),
    ("get", "/v1/music/shared/{token}", "200", "TrackLinkView"),
    ("get", "/v1/public/track-links/{token}/playback-url", "200", "SignedUrl"),
    *[("post", path, "200", "Acknowledged") for path in SHARE_EVENTS],
    ("get", "/v1/public/pack-links/{slug}", "200", "PackPresentation"),
    ("get", "/v1/pack-links/{slug}/presentation", "200", "PackPresentation"),
    ("get", "/v1/public/pack-links/{slug}/tracks/{track_id}/download-url", "200", "SignedUrl"),
    ("get", "/v1/public/split-sheets/{token}", "200", "SplitSheetLinkView"),
    ("post", "/v1/tracks/{track_id}/shares", "201", "RefShareCreated"),
    ("post", "/v1/tracks/{track_id}/shares/{code}/click", "200", "Acknowledged"),
    ("post", "/v1/tracks/{track_id}/plays", "200", "Acknowledged"),
]
CHANNELS = [
    "whatsapp",
    "  sms  ",
    "é",
    "x" * 1000,
    "x" * 1001,
    "",
    " ",
    "\t\n",
    "\x00",
    "\x01\x02",
    "\x7f",
    "\u00a0",
    "\u3000",
    "\x1c\x1d",
    " \x00 a",
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    async def fetch() -> dict[str, Any]:
        app: Any = create_app(GatewaySettings(env="dev"))  # an ASGI app, as httpx types it
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            response = await client.get("/schema/openapi.json")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    return asyncio.run(fetch())


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """`schema` with the document's components in reach of its `$ref`s."""
    return Draft202012Validator({**schema, "components": document["components"]})


def accepted(channel: str) -> bool:
    try:
        ShareEvent.model_validate({"channel": channel})
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("path", SHARE_EVENTS)
def test_a_share_event_the_document_calls_valid_is_accepted(
    document: dict[str, Any], path: str
) -> None:
    """The fuzzer's complaint: `{"channel": " "}` was valid by the schema, refused by the
    route. Now the schema says what cleaning leaves, and they agree on every edge."""
    body = document["paths"][path]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    check = validator(document, schema)
    for channel in CHANNELS:
        assert check.is_valid({"channel": channel}) == accepted(channel), repr(channel)
    assert not check.is_valid({})


@pytest.mark.parametrize(("method", "path", "status", "model"), ANSWERS)
def test_each_answer_names_its_model(
    document: dict[str, Any], method: str, path: str, status: str, model: str
) -> None:
    response = document["paths"][path][method]["responses"][status]
    schema = response["content"]["application/json"]["schema"]
    assert schema == {"$ref": f"#/components/schemas/{model}"}


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/v1/music/{org}/tracks/{track_id}/share", "CreateTrackLink"),
        ("/v1/tracks/{track_id}/plays", "PlayReport"),
    ],
)
def test_optional_bodies_are_documented(document: dict[str, Any], path: str, model: str) -> None:
    schema = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    assert {"$ref": f"#/components/schemas/{model}"} in schema["schema"]["oneOf"]


def test_engagement_parameters_are_declared(document: dict[str, Any]) -> None:
    pack = document["paths"]["/v1/public/pack-links/{slug}"]["get"]
    names = {p["name"] for p in pack["parameters"] if p["in"] == "query"}
    assert names == {"accessCode", "visitorId", "sessionId", "source"}


def test_media_documents_whole_and_partial_bytes(document: dict[str, Any]) -> None:
    responses = document["paths"]["/v1/media/{token}"]["get"]["responses"]
    for status in ("200", "206"):
        assert "application/octet-stream" in responses[status]["content"], status


def test_a_split_sheet_link_without_expiry_leaves_expires_at_out() -> None:
    """As sharing always answered (the seed: "optional expiresAt"), not `null`."""
    now = datetime.now(UTC)
    envelope = {
        "name": None,
        "status": "draft",
        "tokenPreview": "…abcd",
        "trackId": "trk_1",
        "created_at": now,
        "updated_at": now,
    }
    assert "expiresAt" not in SplitSheetLinkSummary(**envelope).model_dump(mode="json")
    expiring = SplitSheetLinkSummary(**envelope, expiresAt=now).model_dump(mode="json")
    assert expiring["expiresAt"] == now.isoformat().replace("+00:00", "Z")
