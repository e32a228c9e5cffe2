"""docs/api.md against the served OpenAPI document, so the API docs cannot drift from it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gateway.api_index import BEGIN, END, METHODS, render_index, replace_index, served_document

API_DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
ROUTE = re.compile(r"^((?:GET|POST|PUT|PATCH|DELETE)(?:/(?:GET|POST|PUT|PATCH|DELETE))*)\s+(\S+)")
Route = tuple[str, str]  # METHOD, path with every parameter written {}


@pytest.fixture(scope="module")
async def document() -> dict[str, Any]:
    return await served_document()


def normalized(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])


def documented_operations(document: dict[str, Any]) -> set[Route]:
    return {
        (method.upper(), normalized(path))
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def table_routes(markdown: str) -> list[tuple[str, str]]:
    """(METHOD, path as written) for each route named in a table's first column, before the
    generated index. A path written `…/x` leaves its prefix out; a bare `…/x` after a route
    takes that route's method."""
    found: list[tuple[str, str]] = []
    for line in markdown.split("## Every operation")[0].splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split(" | ")[0]
        method = ""
        for span in re.findall(r"`([^`]+)`", first_cell):
            match = ROUTE.match(span)
            if match:
                methods, path = match.group(1).split("/"), match.group(2)
                method = methods[-1]
            elif method and span.startswith("…/"):
                methods, path = [method], span
            else:
                continue
            if path.endswith("…"):
                continue
            found += [(m, path) for m in methods]
    return found


def resolves(route: tuple[str, str], operations: set[Route]) -> bool:
    method, path = route
    if path.startswith("…"):
        suffix = normalized(path.removeprefix("…"))
        return any(m == method and p.endswith(suffix) for m, p in operations)
    return (method, normalized(path)) in operations


def test_the_generated_index_is_the_served_document(document: dict[str, Any]) -> None:
    markdown = API_DOC.read_text()
    expected = replace_index(markdown, render_index(document))
    assert markdown == expected, "docs/api.md's operation index is stale: run `make docs`"
    rows = markdown.split(BEGIN)[1].split(END)[0].count("\n| `")
    count = sum(1 for item in document["paths"].values() for m in item if m in METHODS)
    assert rows == count > 60


def test_every_route_in_the_tables_is_in_the_document(document: dict[str, Any]) -> None:
    operations = documented_operations(document)
    routes = table_routes(API_DOC.read_text())
    assert len(routes) > 50, "the tables' routes were not found: has their format changed?"
    unknown = [f"{m} {p}" for m, p in routes if not resolves((m, p), operations)]
    assert unknown == [], f"docs/api.md names routes the gateway does not serve: {unknown}"


def test_the_route_parser_catches_a_route_that_does_not_exist() -> None:
    operations = {("GET", "/v1/me"), ("GET", "/v1/music/{}/tracks")}
    routes = table_routes("| `GET /v1/me`, `…/tracks` | x |\n| `DELETE /v1/me` | y |\n")
    assert routes == [("GET", "/v1/me"), ("GET", "…/tracks"), ("DELETE", "/v1/me")]
    assert [resolves(route, operations) for route in routes] == [True, True, False]


def test_every_operation_is_explained_in_a_table(document: dict[str, Any]) -> None:
    operations = documented_operations(document)
    explained = {
        operation
        for route in table_routes(API_DOC.read_text())
        for operation in operations
        if resolves(route, {operation})
    }
    missing = sorted(f"{m} {p}" for m, p in operations - explained)
    assert missing == [], f"operations without a row in docs/api.md's tables: {missing}"
