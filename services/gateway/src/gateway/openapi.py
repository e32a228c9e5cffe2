"""The gateway's OpenAPI as a contract: names, areas, auth, errors and links, each derived
by one rule from what the routes are, so a new route is documented the same way.

- `operationId`: the handler's name, prefixed with its controller's area when another
  handler has the same name (`create` -> `albums_create`, `packs_create`).
- tags: one per controller (its area), described by the controller's docstring.
- security: `ApiKey` (`X-API-Key`) or `Bearer` where a key is needed; both or none (`{}`)
  where a key is optional (the public surfaces use one when it is sent).
- errors: each status the route can answer with the SPEC envelope, from what it does
  (see `error_statuses`). Litestar's own generic 400 is never sent, so it goes.
- links: from the operations that create something to those that use it (`CREATES`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import get_args

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    Components,
    Link,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    Schema,
    SecurityRequirement,
    SecurityScheme,
    Tag,
)
from litestar.routes import HTTPRoute
from pydantic import BaseModel

import contracts.api.analytics
import contracts.api.catalog
import contracts.api.identity
import contracts.api.sharing
import contracts.dto
from contracts.errors import ErrorCode, ErrorType
from gateway.auth import ADMIN_ONLY
from gateway.forwarding import UPLOAD_OPTION

_STRING = Schema(type=OpenAPIType.STRING)
BODY_METHODS = {"POST", "PUT", "PATCH"}
PUBLIC_MODULE = "gateway.api.public"  # lookups and access codes are charged here (429)

ERROR_DESCRIPTIONS = {
    401: "No API key, or one that is not valid",
    403: "Not allowed: the caller's role, or the link's access code or download setting",
    404: "Not found, or not visible to this caller",
    409: "Conflicts with the current state",
    413: "The body is larger than this route accepts",
    415: "The file's type is not supported",
    422: "Some of the input is not valid (`details.fields` names it)",
    429: "Too many attempts from this address (or on this link); retry later",
    503: "A service the request needs is unavailable; retry later",
}

API_KEY = "ApiKey"
BEARER = "Bearer"
SECURITY_SCHEMES = {
    API_KEY: SecurityScheme(
        type="apiKey",
        name="X-API-Key",
        security_scheme_in="header",
        description="An API key (`encore key create`, `POST /v1/me/api-keys`)",
    ),
    BEARER: SecurityScheme(
        type="http",
        scheme="bearer",
        description="The same API key, as `Authorization: Bearer <key>`",
    ),
}
KEY_REQUIRED: list[SecurityRequirement] = [{API_KEY: []}, {BEARER: []}]
KEY_OPTIONAL: list[SecurityRequirement] = [*KEY_REQUIRED, {}]


@dataclass(frozen=True, slots=True)
class Creates:
    """What a create operation's 2xx body hands on: `pointer` in its body fills the path
    parameter `parameter` of every operation under one of `under`."""

    parameter: str
    pointer: str
    under: tuple[str, ...]


# operationId of the creating operation -> what it creates
CREATES: dict[str, tuple[Creates, ...]] = {
    "upload": (
        Creates("track_id", "/id", ("/v1/music/{org}/tracks/{track_id}", "/v1/tracks/{track_id}")),
    ),
    "albums_create": (Creates("album_id", "/id", ("/v1/music/{org}/albums/{album_id}",)),),
    "packs_create": (Creates("pack_id", "/id", ("/v1/music/{org}/packs/{pack_id}",)),),
    "tracks_share": (
        Creates("link_id", "/id", ("/v1/music/{org}/shares/{link_id}",)),
        Creates("token", "/token", ("/v1/public/track-links/{token}", "/v1/music/shared/{token}")),
    ),
    "packs_share": (
        Creates("link_id", "/id", ("/v1/music/{org}/shares/{link_id}",)),
        Creates("slug", "/slug", ("/v1/public/pack-links/{slug}", "/v1/pack-links/{slug}")),
    ),
    "split_sheet_share": (Creates("token", "/token", ("/v1/public/split-sheets/{token}",)),),
    "ref_shares_create": (Creates("code", "/code", ("/v1/tracks/{track_id}/shares/{code}",)),),
    "users_create": (
        Creates("org", "/organization_id", ("/v1/music/{org}", "/v1/organizations/{org}")),
    ),
    "organizations_create": (
        Creates("org", "/id", ("/v1/music/{org}", "/v1/organizations/{org}")),
    ),
    "create_key": (Creates("key_id", "/id", ("/v1/me/api-keys/{key_id}",)),),
    "invite": (
        Creates(
            "invitation_id",
            "/id",
            ("/v1/organizations/{org}/invitations/{invitation_id}", "/v1/me/invitations"),
        ),
    ),
}


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    """One documented operation and the handler behind it."""

    path: str
    method: str
    handler: HTTPRouteHandler
    operation: Operation

    @property
    def wants(self) -> set[str]:
        return set(self.handler.parsed_fn_signature.parameters)

    @property
    def controller(self) -> object:
        """The controller instance Litestar bound the handler to (the app for a bare one)."""
        return getattr(self.handler.fn, "__self__", None)

    @property
    def area(self) -> str:
        """The controller's name without `Controller`, in words: `PublicPackLinks` ->
        `public pack links`."""
        stem = type(self.controller).__name__.removesuffix("Controller")
        return re.sub(r"(?<!^)(?=[A-Z])", " ", stem).lower()

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def public(self) -> bool:
        return self.handler.fn.__module__ == PUBLIC_MODULE

    @property
    def key_required(self) -> bool:
        admin_only = ADMIN_ONLY.items() <= self.handler.opt.items()
        return admin_only or bool({"membership", "caller"} & self.wants)

    @property
    def key_optional(self) -> bool:
        return not self.key_required and ("caller_or_none" in self.wants or self.public)


def documented_routes(app: Litestar, openapi: OpenAPI) -> Iterator[Route]:
    paths = openapi.paths or {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in paths:
            continue
        item = paths[route.path_format]
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods):
                operation = getattr(item, method.lower(), None)
                if operation is not None and handler.include_in_schema:
                    yield Route(route.path_format, method, handler, operation)


def error_statuses(route: Route) -> set[int]:
    """Each status `route` can answer with the envelope, from what it does."""
    parameters = route.operation.parameters or []
    statuses = {503}  # every route reads the database or calls a service
    if route.key_required or route.key_optional:
        statuses.add(401)  # a key that is not valid is refused even where none is needed
    if "membership" in route.wants:
        statuses |= {403, 404}  # roles; an organization the caller is not in is a 404
    if route.path_parameters:
        statuses.add(404)
    if route.method in BODY_METHODS and {"data", "request"} & route.wants:
        statuses |= {413, 422}
    if route.handler.opt.get(UPLOAD_OPTION):
        statuses.add(415)
    if any(isinstance(p, Parameter) and p.param_in == "query" for p in parameters):
        statuses.add(422)
    if route.key_required and route.method != "GET":
        statuses.add(409)  # a name or handle taken, a state that does not allow it
    if route.public and not route.key_required:
        statuses |= {403, 429}  # access codes and downloads; guessing is limited
    if route.path.endswith("/playback-url"):
        statuses.add(409)  # MEDIA_PROCESSING until the renditions exist, MEDIA_FAILED
    if route.path == "/oembed":
        statuses.add(404)  # a URL of another site: oEmbed's "no response for this url"
    return statuses


def operation_ids(routes: list[Route]) -> dict[Route, str]:
    """The handler's name, or `area_name` where two handlers share one."""
    names = Counter(route.handler.handler_name for route in routes)
    ids: dict[Route, str] = {}
    for route in routes:
        name = route.handler.handler_name
        if names[name] > 1:
            name = f"{route.area.replace(' ', '_')}_{name}"
        ids[route] = name
    duplicates = [name for name, count in Counter(ids.values()).items() if count > 1]
    if duplicates:
        raise RuntimeError(f"operationIds are not unique: {duplicates}")
    return ids


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


def _document_errors(route: Route) -> None:
    reference = Reference(ref="#/components/schemas/ErrorEnvelope")
    responses = {
        status: response
        for status, response in (route.operation.responses or {}).items()
        if not status.startswith(("4", "5"))
    }
    for status in sorted(error_statuses(route)):
        responses[str(status)] = OpenAPIResponse(
            description=ERROR_DESCRIPTIONS[status],
            content={"application/json": OpenAPIMediaType(schema=reference)},
        )
    route.operation.responses = responses


def _link(creator: Route, consumer: Route, creates: Creates) -> Link | None:
    """A link filling each path parameter of `consumer` from the creator's body or its own
    path; None when one of them cannot be filled."""
    parameters: dict[str, str] = {}
    for name in consumer.path_parameters:
        if name == creates.parameter:
            parameters[name] = f"$response.body#{creates.pointer}"
        elif name in creator.path_parameters:
            parameters[name] = f"$request.path.{name}"
        else:
            return None
    return Link(operation_id=consumer.operation.operation_id, parameters=parameters)


def _document_links(routes: list[Route]) -> None:
    by_id = {route.operation.operation_id: route for route in routes}
    for creator_id, created in CREATES.items():
        creator = by_id[creator_id]
        success = next(
            response
            for status, response in (creator.operation.responses or {}).items()
            if status.startswith("2")
        )
        assert isinstance(success, OpenAPIResponse)
        links: dict[str, Link | Reference] = {}
        for creates in created:
            for consumer in routes:
                if consumer is creator or not consumer.path.startswith(creates.under):
                    continue
                link = _link(creator, consumer, creates)
                if link is not None:
                    links[str(consumer.operation.operation_id)] = link
        success.links = links


CONTRACT_MODULES = (
    contracts.dto,
    contracts.api.analytics,
    contracts.api.catalog,
    contracts.api.identity,
    contracts.api.sharing,
)


def close_forbidding_models(schemas: Mapping[str, Schema | Reference]) -> None:
    """A contracts model that refuses extra fields (`extra="forbid"`) says so in its schema
    (`additionalProperties: false`), which Litestar leaves out: a generated client then
    keeps no bag of unknown fields and a fuzzer knows an extra key is invalid input."""
    for module in CONTRACT_MODULES:
        for model in vars(module).values():
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            schema = schemas.get(model.__name__)
            if isinstance(schema, Schema) and model.model_config.get("extra") == "forbid":
                schema.additional_properties = False


MEDIA_PATH = "/v1/media/{token}"
MEDIA_TYPES = ("application/octet-stream", "audio/*", "image/*")


def document_media_types(openapi: OpenAPI) -> None:
    """Media answers with the stored object's own type (an `audio/…` or `image/…`), which
    one Litestar `ResponseSpec` cannot say: list the ranges, so a response's real
    `Content-Type` is a documented one."""
    item = (openapi.paths or {}).get(MEDIA_PATH)
    operation = item.get if item is not None else None
    for status, response in (operation.responses or {}).items() if operation else ():
        if status.startswith("2") and isinstance(response, OpenAPIResponse):
            binary = Schema(type=OpenAPIType.STRING, content_media_type="application/octet-stream")
            response.content = {kind: OpenAPIMediaType(schema=binary) for kind in MEDIA_TYPES}


def document(app: Litestar) -> None:
    """Complete the document Litestar generated for `app` (once, at start-up)."""
    openapi = app.openapi_schema
    routes = list(documented_routes(app, openapi))
    for route, operation_id in operation_ids(routes).items():
        route.operation.operation_id = operation_id
    tags: dict[str, Tag] = {}
    for route in routes:
        doc = (type(route.controller).__doc__ or "").strip()
        tags.setdefault(route.area, Tag(name=route.area, description=doc or None))
        route.operation.tags = [route.area]
        if route.key_required:
            route.operation.security = KEY_REQUIRED
        elif route.key_optional:
            route.operation.security = KEY_OPTIONAL
        _document_errors(route)
    _document_links(routes)
    openapi.tags = sorted(tags.values(), key=lambda tag: tag.name)
    components = openapi.components or Components()
    components.schemas = {**(components.schemas or {}), **envelope_schemas()}
    close_forbidding_models(components.schemas)
    document_media_types(openapi)
    components.security_schemes = {**(components.security_schemes or {}), **SECURITY_SCHEMES}
    openapi.components = components
