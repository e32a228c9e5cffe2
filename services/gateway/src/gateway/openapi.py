"""The gateway's OpenAPI tells the truth about errors: every 4xx (and the 503 of a service
that is down) is the SPEC envelope.

Litestar documents, for every handler with parameters, a 400 with its own
`{status_code, detail, extra}` body. The gateway never sends that: validation is a 422 and
every error is the envelope (servicekit.errors), so clients and fuzzers reading `/schema`
were told something false.
"""

from __future__ import annotations

from typing import get_args

from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)

from contracts.errors import ErrorCode, ErrorType

_STRING = Schema(type=OpenAPIType.STRING)
_ERROR_RESPONSES = {"4XX": "A client error", "503": "A service the request needs is unavailable"}


def _closed_object(properties: dict[str, Schema | Reference]) -> Schema:
    """Exactly these keys: a client can rely on each, and nothing else appears."""
    return Schema(
        type=OpenAPIType.OBJECT,
        properties=properties,
        required=list(properties),
        additional_properties=False,
    )


def envelope_schemas() -> dict[str, Schema]:
    body = _closed_object(
        {
            "code": Schema(type=OpenAPIType.STRING, enum=[code.value for code in ErrorCode]),
            "message": _STRING,
            "system_message": _STRING,
            "type": Schema(type=OpenAPIType.STRING, enum=list(get_args(ErrorType))),
            "status": Schema(type=OpenAPIType.INTEGER, minimum=400, maximum=599),
            "details": Schema(type=OpenAPIType.OBJECT),
            "trace_id": _STRING,  # the gateway assigns one to every request
            "timestamp": _STRING,
        }
    )
    envelope = _closed_object(
        {
            "success": Schema(type=OpenAPIType.BOOLEAN, const=False),
            "error": Reference(ref="#/components/schemas/ErrorBody"),
        }
    )
    return {"ErrorEnvelope": envelope, "ErrorBody": body}


def _operations(openapi: OpenAPI) -> list[Operation]:
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    return [
        operation
        for item in (openapi.paths or {}).values()
        for operation in (getattr(item, method) for method in methods)
        if operation is not None
    ]


def document_errors(openapi: OpenAPI) -> None:
    """Replace Litestar's generic error responses with the envelope, on every operation."""
    assert openapi.components is not None
    schemas = openapi.components.schemas if openapi.components.schemas is not None else {}
    schemas.update(envelope_schemas())
    openapi.components.schemas = schemas
    reference = Reference(ref="#/components/schemas/ErrorEnvelope")
    for operation in _operations(openapi):
        responses = {
            status: response
            for status, response in (operation.responses or {}).items()
            if not status.startswith(("4", "5"))
        }
        for status, description in _ERROR_RESPONSES.items():
            responses[status] = OpenAPIResponse(
                description=description,
                content={"application/json": OpenAPIMediaType(schema=reference)},
            )
        operation.responses = responses
