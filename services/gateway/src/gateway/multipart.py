"""OpenAPI for the upload forms, which the gateway streams to catalog without reading them.

A handler that took the form as `data` would have Litestar parse it (every file spooled in
the gateway) and leave nothing to stream on. So an upload route keeps reading its raw body
(forwarding.py), and its operation is given the form's schema here, from the same contract
model (contracts.api.catalog) that names catalog's bounds: the file parts as binary, each
text field with its type and bounds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar.openapi.spec import (
    Encoding,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from pydantic import BaseModel

MULTIPART = "multipart/form-data"
# media types of the file parts (catalog tells them by their content, whatever is sent)
AUDIO_PARTS = "audio/*"
IMAGE_PARTS = "image/png, image/jpeg, image/webp"

# JSON Schema keywords a flat form's fields use, and their names on Litestar's Schema
_KEYWORDS = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "enum": "enum",
    "const": "const",
    "description": "description",
    "default": "default",
    "examples": "examples",
}


def _field_schema(spec: Mapping[str, Any]) -> Schema:
    """One form field: `X | None` is just X (an absent part is the None), a file is binary."""
    options = [option for option in spec.get("anyOf", ()) if option.get("type") != "null"]
    if options:
        (only,) = options  # a form field holds one kind of value
        spec = {**{k: v for k, v in spec.items() if k != "anyOf"}, **only}
    values = {name: spec[key] for key, name in _KEYWORDS.items() if spec.get(key) is not None}
    if spec.get("format") == "binary":
        values["format"] = OpenAPIFormat.BINARY
        values["content_media_type"] = "application/octet-stream"
    return Schema(type=OpenAPIType(spec["type"]), **values)


def form_schema(form: type[BaseModel]) -> Schema:
    spec = form.model_json_schema()
    return Schema(
        type=OpenAPIType.OBJECT,
        title=form.__name__,
        description=spec.get("description"),
        properties={name: _field_schema(field) for name, field in spec["properties"].items()},
        required=spec.get("required") or None,
    )


def multipart_form(form: type[BaseModel], files: Mapping[str, str]) -> type[Operation]:
    """An operation class (the route's `operation_class`) whose request body is `form` as
    multipart; `files` maps each file part to the media types it takes."""
    body = RequestBody(
        required=True,
        description=form.__doc__,
        content={
            MULTIPART: OpenAPIMediaType(
                schema=form_schema(form),
                encoding={part: Encoding(content_type=types) for part, types in files.items()},
            )
        },
    )

    @dataclass
    class FormOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    FormOperation.__name__ = FormOperation.__qualname__ = f"{form.__name__}Operation"
    return FormOperation
