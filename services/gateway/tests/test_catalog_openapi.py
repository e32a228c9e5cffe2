"""The catalog area of `/schema/openapi.json` names the contract models catalog takes and
answers: every JSON body, every upload form (file parts and fields, with catalog's bounds)
and every 2xx body. Built in-process: the document needs no infrastructure."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import pytest

from contracts.api import catalog as contract
from gateway.app import create_app
from gateway.settings import GatewaySettings

ORG = "/v1/music/{org}"
TRACK = f"{ORG}/tracks/{{track_id}}"
ALBUM = f"{ORG}/albums/{{album_id}}"
PACK = f"{ORG}/packs/{{pack_id}}"

# (method, path) -> (JSON request body or None, {2xx status: response schema})
JSON_ROUTES: dict[tuple[str, str], tuple[str | None, dict[str, str]]] = {
    ("get", f"{ORG}/tracks"): (None, {"200": "TrackPage"}),
    ("get", TRACK): (None, {"200": "TrackView"}),
    ("delete", TRACK): (None, {"200": "DeletedTrack"}),
    ("get", f"{TRACK}/playback-url"): (None, {"200": "SignedUrl"}),
    ("get", f"{TRACK}/download-url"): (None, {"200": "SignedUrl"}),
    ("get", f"{TRACK}/split-sheet"): (None, {"200": "SplitSheetView"}),
    ("put", f"{TRACK}/split-sheet"): ("SplitSheetInput", {"200": "SplitSheetView"}),
    ("post", f"{TRACK}/split-sheet/status"): ("SplitSheetStatusChange", {"200": "SplitSheetView"}),
    ("post", f"{TRACK}/split-sheet/share"): ("CreateSplitSheetLink", {"201": "ShareLinkCreated"}),
    ("post", f"{ORG}/albums"): ("CreateAlbum", {"201": "AlbumSummary", "200": "AlbumSummary"}),
    ("get", ALBUM): (None, {"200": "AlbumDetail"}),
    ("patch", ALBUM): ("UpdateAlbum", {"200": "AlbumSummary"}),
    ("post", f"{ALBUM}/finalize"): ("FinalizeAlbum", {"200": "AlbumDetail"}),
    ("delete", f"{ALBUM}/tracks/{{track_id}}"): (None, {"200": "RemovedAlbumTrack"}),
    ("delete", ALBUM): (None, {"200": "DeletedAlbum"}),
    ("post", f"{ORG}/packs"): ("CreatePack", {"201": "PackView"}),
    ("get", f"{ORG}/packs"): (None, {"200": "PackPage"}),
    ("get", PACK): (None, {"200": "PackView"}),
    ("patch", PACK): ("UpdatePack", {"200": "PackView"}),
    ("post", f"{PACK}/tracks"): ("PackTracks", {"200": "PackView"}),
    ("put", f"{PACK}/tracks"): ("PackTracks", {"200": "PackView"}),
    ("delete", f"{PACK}/tracks/{{track_id}}"): (None, {"200": "PackView"}),
    ("delete", PACK): (None, {"200": "DeletedPack"}),
    ("post", f"{PACK}/share"): ("CreatePackLink", {"201": "PackLinkCreated"}),
    ("get", "/v1/albums"): (None, {"200": "AlbumPage"}),
    ("get", "/v1/artists/{handle}/albums"): (None, {"200": "AlbumPage"}),
    ("get", "/v1/albums/{handle}/{slug}"): (None, {"200": "AlbumDetail"}),
    ("get", "/v1/tracks/{track_id}"): (None, {"200": "PublicTrack"}),
}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    async def fetch() -> dict[str, Any]:
        app = create_app(GatewaySettings(env="dev"))
        transport = httpx.ASGITransport(app=cast(Any, app))  # an ASGI app, typed by Litestar
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            response = await client.get("/schema/openapi.json")
        assert response.status_code == 200
        document: dict[str, Any] = response.json()
        return document

    return asyncio.run(fetch())


def _ref(schema: dict[str, Any]) -> str:
    """The component a body names, through `X | None` (an optional body)."""
    for option in schema.get("oneOf", ()):
        if "$ref" in option:
            schema = option
    return str(schema["$ref"]).rsplit("/", 1)[-1]


@pytest.mark.parametrize(("method", "path"), list(JSON_ROUTES))
def test_json_routes_declare_their_contract_bodies(
    openapi: dict[str, Any], method: str, path: str
) -> None:
    request, responses = JSON_ROUTES[(method, path)]
    operation = openapi["paths"][path][method]
    if request is None:
        assert "requestBody" not in operation
    else:
        assert _ref(operation["requestBody"]["content"]["application/json"]["schema"]) == request
        assert request in openapi["components"]["schemas"]
    declared = {status: r for status, r in operation["responses"].items() if status[0] == "2"}
    assert set(declared) == set(responses)
    for status, model in responses.items():
        schema = declared[status]["content"]["application/json"]["schema"]
        assert _ref(schema) == model


def test_the_album_list_is_paged_like_every_list(openapi: dict[str, Any]) -> None:
    operation = openapi["paths"][f"{ORG}/albums"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert _ref(schema) == "AlbumPage"
    page = openapi["components"]["schemas"]["AlbumPage"]
    assert {"items", "total", "limit", "offset"} <= set(page["properties"])
    bounds = {p["name"]: p["schema"] for p in operation["parameters"] if p["in"] == "query"}
    assert (bounds["limit"]["minimum"], bounds["limit"]["maximum"]) == (1, 100)
    assert bounds["offset"]["minimum"] == 0


def _form(openapi: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    body = openapi["paths"][path][method]["requestBody"]
    assert set(body["content"]) == {"multipart/form-data"}
    form: dict[str, Any] = body["content"]["multipart/form-data"]
    return form


def test_the_upload_form_has_its_file_part_and_each_field(openapi: dict[str, Any]) -> None:
    form = _form(openapi, "post", f"{ORG}/tracks")
    fields = form["schema"]["properties"]
    assert set(fields) == {"file", "title", "visibility", "album_id"}
    assert form["schema"]["required"] == ["file", "title"]
    assert fields["file"] == {**fields["file"], "type": "string", "format": "binary"}
    assert form["encoding"]["file"]["contentType"] == "audio/*"
    assert (fields["title"]["minLength"], fields["title"]["maxLength"]) == (1, contract.MAX_TITLE)
    assert fields["visibility"]["enum"] == ["public", "private"]
    assert fields["album_id"]["type"] == "string"  # an absent part, not a null one


def test_the_track_edit_form_has_every_field_with_its_bounds(openapi: dict[str, Any]) -> None:
    form = _form(openapi, "patch", TRACK)
    fields = form["schema"]["properties"]
    assert set(fields) == {
        "title",
        "album",
        "features",
        "tags",
        "description",
        "support_gate",
        "visibility",
        "image",
        "remove_image",
    }
    assert "required" not in form["schema"]  # only the fields sent change
    assert fields["image"]["format"] == "binary"
    assert fields["description"]["maxLength"] == contract.MAX_DESCRIPTION
    assert fields["support_gate"]["maxLength"] == contract.MAX_SUPPORT_GATE
    assert fields["tags"]["maxLength"] == contract.MAX_LIST_JSON
    assert fields["remove_image"]["enum"] == ["true", "false"]


def test_the_cover_form_has_its_image_part(openapi: dict[str, Any]) -> None:
    form = _form(openapi, "post", f"{ALBUM}/cover")
    assert form["schema"]["required"] == ["image"]
    assert form["schema"]["properties"]["image"]["format"] == "binary"


def _is_text(schema: dict[str, Any]) -> bool:
    kinds = [schema.get("type")] + [option.get("type") for option in schema.get("oneOf", ())]
    return "string" in kinds and "number" not in kinds


def test_text_fields_say_they_cannot_hold_nul(openapi: dict[str, Any]) -> None:
    """Postgres cannot store NUL: the document says so, so valid input is storable input."""
    bodies = {request for request, _ in JSON_ROUTES.values() if request is not None}
    schemas = openapi["components"]["schemas"]
    for name in bodies | {"ContributorInput"}:
        for field, schema in schemas[name]["properties"].items():
            if _is_text(schema) and "enum" not in schema:
                # STORABLE, or a stricter rule of that field (an album slug)
                assert schema.get("pattern") in (contract.STORABLE, contract.SLUG_PATTERN), (
                    name,
                    field,
                )
    for method, path in (("post", f"{ORG}/tracks"), ("patch", TRACK)):
        fields = _form(openapi, method, path)["schema"]["properties"]
        for field, schema in fields.items():
            if schema.get("format") != "binary" and "enum" not in schema:
                assert schema.get("pattern") == contract.STORABLE, (path, field)
