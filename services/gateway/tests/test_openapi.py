"""The gateway's `/schema/openapi.json`, built in-process: valid OpenAPI 3.1, and what a
generated client and a stateful fuzzer need (names, areas, auth, errors, links)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from gateway.app import create_app
from gateway.settings import GatewaySettings

METHODS = ("get", "put", "post", "delete", "patch")
Operations = dict[str, tuple[str, str, dict[str, Any]]]  # operationId -> method, path, op


@pytest.fixture(scope="module")
async def document() -> dict[str, Any]:
    # no lifespan: nothing is connected; httpx types ASGI apps more loosely than Litestar
    app: Any = create_app(GatewaySettings(env="dev"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture(scope="module")
def operations(document: dict[str, Any]) -> Operations:
    return {
        op["operationId"]: (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    errors = [error.message for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


def test_operation_ids_are_unique_method_names(
    document: dict[str, Any], operations: Operations
) -> None:
    count = sum(1 for item in document["paths"].values() for m in item if m in METHODS)
    assert len(operations) == count, "every operation has its own operationId"
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in operations), list(operations)
    assert operations["upload"][:2] == ("post", "/v1/music/{org}/tracks")
    assert operations["albums_create"][:2] == ("post", "/v1/music/{org}/albums")
    assert operations["packs_create"][:2] == ("post", "/v1/music/{org}/packs")


def test_each_operation_is_tagged_with_its_area(
    document: dict[str, Any], operations: Operations
) -> None:
    declared = {tag["name"] for tag in document["tags"]}
    for _, _, op in operations.values():
        assert len(op["tags"]) == 1 and op["tags"][0] in declared
    assert operations["list_tracks"][2]["tags"] == ["tracks"]
    assert operations["public_pack_links_presentation"][2]["tags"] == ["public pack links"]


def test_keys_are_security_schemes_required_or_optional(
    document: dict[str, Any], operations: Operations
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "apiKey",
        "name": "X-API-Key",
        "in": "header",
        "description": schemes["ApiKey"]["description"],
    }
    assert schemes["Bearer"]["type"] == "http" and schemes["Bearer"]["scheme"] == "bearer"
    required: list[dict[str, list[str]]] = [{"ApiKey": []}, {"Bearer": []}]
    assert operations["list_tracks"][2]["security"] == required
    assert operations["users_create"][2]["security"] == required  # the admin key
    assert operations["me"][2]["security"] == required
    assert operations["public_track_links_open"][2]["security"] == [*required, {}]
    assert "security" not in operations["albums"][2]  # the public catalog reads no key


def test_each_operation_lists_its_own_error_statuses_in_the_envelope(
    operations: Operations,
) -> None:
    def errors(name: str) -> set[str]:
        responses = operations[name][2]["responses"]
        return {status for status in responses if status[0] in "45"}

    for _, _, op in operations.values():
        for status, response in op["responses"].items():
            assert "X" not in status, f"{op['operationId']}: a range, not a status"
            if status[0] in "45":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}
    assert errors("me") == {"401", "503"}
    assert errors("list_tracks") == {"401", "403", "404", "422", "503"}
    assert errors("upload") == {"401", "403", "404", "409", "413", "415", "422", "503"}
    assert errors("albums") == {"422", "503"}
    # MEDIA_PROCESSING / MEDIA_FAILED: playback waits for the media worker (SPEC §7)
    playbacks = [name for name in operations if name.endswith("playback_url")]
    assert len(playbacks) >= 4 and all("409" in errors(name) for name in playbacks)
    # its engagement query parameters (visitorId, sessionId, source) bring the 422
    assert errors("public_track_links_open") == {"401", "403", "404", "422", "429", "503"}
    assert errors("public_pack_links_share_event") >= {"413", "422", "429"}


def test_create_operations_link_to_the_operations_that_use_what_they_made(
    operations: Operations,
) -> None:
    def links(name: str) -> dict[str, Any]:
        _, _, op = operations[name]
        created = next(r for status, r in op["responses"].items() if status.startswith("2"))
        found: dict[str, Any] = created["links"]
        return found

    assert links("upload")["get_track"] == {
        "operationId": "get_track",
        "parameters": {"org": "$request.path.org", "track_id": "$response.body#/id"},
    }
    assert links("tracks_share")["public_track_links_open"]["parameters"] == {
        "token": "$response.body#/token"
    }
    assert "revoke" in links("tracks_share")
    assert links("packs_share")["public_pack_links_presentation"]["parameters"] == {
        "slug": "$response.body#/slug"
    }
    assert links("ref_shares_create")["click"]["parameters"] == {
        "track_id": "$request.path.track_id",
        "code": "$response.body#/code",
    }
    for name in ("albums_create", "packs_create", "split_sheet_share", "create_key", "invite"):
        assert links(name), f"{name} links to what uses it"
    for name in ("users_create", "organizations_create"):
        assert links(name), f"{name} links to what uses it"
    for _, _, op in operations.values():  # every link names an operation and fills its path
        for response in op["responses"].values():
            for link in response.get("links", {}).values():
                _, path, _ = operations[link["operationId"]]
                assert set(re.findall(r"{(\w+)}", path)) == set(link["parameters"])


async def test_options_and_405_list_exactly_the_documented_methods(
    document: dict[str, Any],
) -> None:
    """`Allow` on OPTIONS (answered by servicekit.paths, as Litestar's own listed only the
    methods registered first at a path) and on the 405, in the envelope, of any other."""
    app: Any = create_app(GatewaySettings(env="dev"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        for path, item in document["paths"].items():
            url = re.sub(r"{\w+}", "x", path)
            declared = {method.upper() for method in item if method in METHODS}
            options = await client.options(url)
            assert options.status_code == 204
            assert set(options.headers["allow"].split(", ")) - {"OPTIONS"} == declared, path
            other = next(m for m in ("PUT", "PATCH", "POST", "DELETE", "GET") if m not in declared)
            refused = await client.request(other, url)
            assert refused.status_code == 405, path
            assert refused.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
            assert set(refused.headers["allow"].split(", ")) - {"OPTIONS"} == declared, path


def test_models_that_refuse_extra_fields_say_so(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    closed = {
        name for name, schema in schemas.items() if schema.get("additionalProperties") is False
    }
    # extra="forbid" in contracts: an unknown key in a share's options is a 422
    assert {"CreateTrackLink", "PublicTrack", "ErrorEnvelope", "ErrorBody"} <= closed
    assert "CreatePack" not in closed  # forbids nothing, so the document promises nothing


def test_media_documents_the_types_it_really_answers_with(document: dict[str, Any]) -> None:
    responses = document["paths"]["/v1/media/{token}"]["get"]["responses"]
    for status in ("200", "206"):
        assert set(responses[status]["content"]) == {
            "application/octet-stream",
            "audio/*",
            "image/*",
        }
    assert set(responses["404"]["content"]) == {"application/json"}


# SPEC §6: snake_case, except the names the seeds fix for their surfaces; `playId` is the
# beacon body's own id spelled like the seed names beside it (docs/api.md, "Casing").
SEED_NAMES = {
    "visitorId",
    "sessionId",
    "accessCode",
    "tokenPreview",
    "trackId",
    "expiresAt",
    "splitSheet",
    "uniqueVisitors",
    "playId",
}
CAMEL = re.compile(r"^[a-z][a-z0-9]*[A-Z]")


def test_names_are_snake_case_except_the_seeds_names(document: dict[str, Any]) -> None:
    camel: set[str] = set()
    for schema in document["components"]["schemas"].values():
        camel.update(name for name in schema.get("properties", {}) if CAMEL.match(name))
    for operations in document["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict):
                for parameter in operation.get("parameters", []):
                    if parameter["in"] != "header" and CAMEL.match(parameter["name"]):
                        camel.add(parameter["name"])
    assert camel - SEED_NAMES == set()
    assert {"visitorId", "sessionId", "accessCode"} <= camel  # the check sees them
