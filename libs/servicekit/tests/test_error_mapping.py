"""What an error envelope tells a caller: the fields it sent, nothing internal."""

from __future__ import annotations

import json

from litestar import Litestar, get, post
from litestar.testing import TestClient
from pydantic import BaseModel

from contracts.errors import ErrorCode, build_error
from servicekit.errors import EXCEPTION_HANDLERS
from servicekit.upstream import UpstreamResponse, error_from_response


class Thing(BaseModel):
    name: str
    count: int


@post("/internal/orgs/{org_id:str}/things")
async def create_thing(org_id: str, data: Thing) -> dict[str, str]:
    return {"org_id": org_id}


@get("/internal/things/{thing_id:str}")
async def broken(thing_id: str) -> None:
    raise KeyError("secret_column")


def client() -> TestClient[Litestar]:
    app = Litestar(
        [create_thing, broken],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    return TestClient(app, raise_server_exceptions=False)


def test_validation_names_the_fields_not_the_request_line() -> None:
    with client() as http:
        response = http.post("/internal/orgs/org_1/things", json={"name": 5})
    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "VALIDATION_ERROR"
    assert set(error["details"]["fields"]) == {"name", "count"}
    assert "name" in error["system_message"] and "count" in error["system_message"]
    assert "/internal" not in response.text and "org_1" not in response.text


def test_an_unexpected_error_names_no_exception() -> None:
    with client() as http:
        response = http.get("/internal/things/t1")
    assert response.status_code == 500
    assert "KeyError" not in response.text and "secret_column" not in response.text


def upstream(status: int, code: ErrorCode, system_message: str) -> UpstreamResponse:
    body = build_error(code, system_message, details={"where": "inside"}).model_dump_json()
    return UpstreamResponse(status, {}, body.encode())


def test_an_upstream_client_error_passes_through() -> None:
    error = error_from_response(
        "catalog", upstream(404, ErrorCode.RESOURCE_NOT_FOUND, "track not found")
    )
    assert (error.code, error.system_message) == (ErrorCode.RESOURCE_NOT_FOUND, "track not found")
    assert error.details == {"where": "inside"}


def test_an_upstream_server_error_says_only_that_something_failed() -> None:
    for status, code in ((500, ErrorCode.INTERNAL_ERROR), (503, ErrorCode.SERVICE_UNAVAILABLE)):
        error = error_from_response("catalog", upstream(status, code, "KeyError in catalog"))
        assert error.code is code
        assert "catalog" not in error.system_message and "KeyError" not in error.system_message
        assert error.details == {}
    for status in (400, 502):
        plain = error_from_response("sharing", UpstreamResponse(status, {}, b"Bad Gateway"))
        assert "sharing" not in json.dumps([plain.system_message, plain.details])
