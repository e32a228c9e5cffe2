"""Every error, from any service, leaves in the SPEC envelope with the request's trace id.

What an envelope says is written for the API's callers: the fields they sent, never a
request line (an internal service's is `/internal/…`), an exception's type or a service's
name. Those go to the log, under the same trace id.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from contracts.errors import ErrorCode, ErrorEnvelope, build_error
from servicekit.tracing import TRACE_HEADER, current_trace_id, new_trace_id

log = logging.getLogger(__name__)

# the system messages of errors that are ours, not the caller's: what failed is in the log
UNEXPECTED = "unexpected error; the trace id finds it in the logs"
UNREACHABLE = "a dependency is unreachable; retry shortly"


class ApiError(Exception):
    """Raise to answer with an envelope; `system_message` is for developers, never secrets."""

    def __init__(
        self,
        code: ErrorCode,
        system_message: str,
        *,
        details: dict[str, Any] | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(system_message)
        self.code = code
        self.system_message = system_message
        self.details = details or {}
        self.message = message
        self.headers = headers or {}


def not_found(what: str, **details: Any) -> ApiError:
    return ApiError(ErrorCode.RESOURCE_NOT_FOUND, f"{what} not found", details=details)


def validation_error(system_message: str, fields: dict[str, str]) -> ApiError:
    return ApiError(ErrorCode.VALIDATION_ERROR, system_message, details={"fields": fields})


def trace_of(request: Request[Any, Any, Any]) -> str:
    """The request's trace id (its server span's); routing errors (404/405) happen before
    the middleware opens one, so they get a trace id of their own."""
    return current_trace_id() or new_trace_id()


def envelope_response(
    envelope: ErrorEnvelope, headers: dict[str, str] | None = None
) -> Response[Any]:
    if envelope.error.trace_id:
        headers = {TRACE_HEADER: envelope.error.trace_id, **(headers or {})}
    return Response(
        content=envelope.model_dump(mode="json"),
        status_code=envelope.error.status,
        headers=headers,
        media_type="application/json",
    )


def _api_error(request: Request[Any, Any, Any], exc: ApiError) -> Response[Any]:
    envelope = build_error(
        exc.code,
        exc.system_message,
        details=exc.details,
        trace_id=trace_of(request),
        message=exc.message,
    )
    return envelope_response(envelope, exc.headers)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Litestar's detail is "Validation failed for <method> <path>": inside a service that
    path is internal, so the message names the fields instead (as the caller sent them)."""
    fields: dict[str, str] = {}
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key = str(item.get("key") or item.get("source") or "body")
            fields[key] = str(item.get("message", "invalid"))
    if fields:
        message = "invalid " + ", ".join(fields)
    else:
        message = exc.detail or "validation failed"
        fields = {"body": message}
    envelope = build_error(
        ErrorCode.VALIDATION_ERROR,
        message,
        details={"fields": fields},
        trace_id=trace_of(request),
    )
    return envelope_response(envelope)


_HTTP_CODES: dict[int, ErrorCode] = {
    401: ErrorCode.AUTHENTICATION_REQUIRED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.RESOURCE_NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    code = _HTTP_CODES.get(exc.status_code)
    if code is None:
        code = ErrorCode.VALIDATION_ERROR if exc.status_code < 500 else ErrorCode.INTERNAL_ERROR
    status = 422 if code is ErrorCode.VALIDATION_ERROR else exc.status_code
    message = exc.detail or code.value
    if status >= 500:
        log.error("unhandled http error %s: %s", exc.status_code, exc.detail)
        message = UNEXPECTED
    envelope = build_error(
        code,
        message,
        trace_id=trace_of(request),
        status=status,
        details={"fields": {"body": exc.detail}} if code is ErrorCode.VALIDATION_ERROR else None,
    )
    headers = dict(exc.headers or {})
    return envelope_response(envelope, headers)


def _database(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    """Input the database refuses is the caller's problem (422: e.g. a NUL in text); a
    constraint lost to a concurrent request is a conflict (409); a database that is going
    away or not back yet is a 503; anything else is ours."""
    sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
    # class 08: connection exception; class 57: shutting down, starting up, cancelled
    if exc.connection_invalidated or sqlstate[:2] in ("08", "57"):
        return _unavailable(request, "database connection lost")
    if isinstance(exc, DataError) or sqlstate.startswith("22"):  # class 22: data exception
        code, message = ErrorCode.VALIDATION_ERROR, "input contains values that cannot be stored"
        details: dict[str, Any] = {"fields": {"body": "invalid characters or values"}}
    elif isinstance(exc, IntegrityError) or sqlstate.startswith("23"):  # integrity violation
        code, message, details = ErrorCode.CONFLICT, "conflicts with a concurrent change", {}
    else:
        return _unexpected(request, exc)
    return envelope_response(
        build_error(code, message, details=details, trace_id=trace_of(request))
    )


def _unreachable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A dependency that cannot be reached (a refused or missing socket, a connect timeout,
    an exhausted pool) is a 503 the client may retry, not a bug: the database being
    restarted must not look like a 500."""
    log.warning("dependency unreachable: %r", exc)
    return _unavailable(request, UNREACHABLE)


def _unavailable(request: Request[Any, Any, Any], message: str) -> Response[Any]:
    return envelope_response(
        build_error(ErrorCode.SERVICE_UNAVAILABLE, message, trace_id=trace_of(request))
    )


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", exc_info=exc)
    envelope = build_error(ErrorCode.INTERNAL_ERROR, UNEXPECTED, trace_id=trace_of(request))
    return envelope_response(envelope)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ApiError: _api_error,
    DBAPIError: _database,
    # asyncpg raises OS errors (not DBAPI ones) when it cannot connect at all
    OSError: _unreachable,
    PoolTimeout: _unreachable,
    ValidationException: _validation,
    NotFoundException: _http,
    NotAuthorizedException: _http,
    MethodNotAllowedException: _http,
    HTTPException: _http,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE: _http,
    Exception: _unexpected,
}
