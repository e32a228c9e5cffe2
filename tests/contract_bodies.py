"""Checks that a live body is exactly its contract model, and that the OpenAPI says so."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel


def assert_body_is(model: type[BaseModel], body: Any) -> None:
    """Every key the body has is a field of the model, under its wire name, and back again:
    a field the service sends that the model lacks (or renames) fails here."""
    items = body if isinstance(body, list) else [body]
    for item in items:
        assert model.model_validate(item).model_dump(mode="json", by_alias=True) == item


def assert_documented(
    openapi: dict[str, Any],
    method: str,
    path: str,
    model: type[BaseModel],
    *,
    status: str = "200",
    many: bool = False,
) -> None:
    """The operation's `status` answer is the model (a list of it with `many`), each of
    its fields documented under the name it has on the wire."""
    responses = openapi["paths"][path][method]["responses"]
    schema = responses[status]["content"]["application/json"]["schema"]
    if many:
        assert schema.get("type") == "array", schema
        schema = schema["items"]
    assert "$ref" in schema, f"{method} {path} {status} declares no model: {schema}"
    name = schema["$ref"].rsplit("/", 1)[-1]
    assert name.endswith(model.__name__), name
    documented = openapi["components"]["schemas"][name]["properties"]
    wire_names = {field.alias or name for name, field in model.model_fields.items()}
    assert set(documented) == wire_names, f"{model.__name__}: {set(documented) ^ wire_names}"


def openapi_of(api: httpx.Client) -> dict[str, Any]:
    document = api.get("/schema/openapi.json")
    assert document.status_code == 200, document.text
    body: dict[str, Any] = document.json()
    return body
