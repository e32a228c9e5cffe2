"""The one error envelope every Encore response uses, and its codes."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, field_serializer

from contracts.decimals import plain_decimals


class ErrorCode(StrEnum):
    AUTHENTICATION_REQUIRED = "AUTHENTICATION_REQUIRED"
    FORBIDDEN = "FORBIDDEN"
    RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    ACCESS_CODE_REQUIRED = "ACCESS_CODE_REQUIRED"
    ACCESS_CODE_INVALID = "ACCESS_CODE_INVALID"
    DOWNLOADS_DISABLED = "DOWNLOADS_DISABLED"
    TRACK_LINK_UNAVAILABLE = "TRACK_LINK_UNAVAILABLE"
    MEDIA_PROCESSING = "MEDIA_PROCESSING"
    MEDIA_FAILED = "MEDIA_FAILED"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


ErrorType = Literal["client_error", "authentication_error", "rate_limit_error", "server_error"]

_DEFAULTS: dict[ErrorCode, tuple[int, ErrorType, str]] = {
    ErrorCode.AUTHENTICATION_REQUIRED: (
        401,
        "authentication_error",
        "Authentication required. Please provide a valid API key.",
    ),
    ErrorCode.FORBIDDEN: (403, "client_error", "You are not allowed to do this."),
    ErrorCode.RESOURCE_NOT_FOUND: (404, "client_error", "The requested resource was not found."),
    ErrorCode.VALIDATION_ERROR: (422, "client_error", "Some of the input is not valid."),
    ErrorCode.CONFLICT: (409, "client_error", "This conflicts with the current state."),
    ErrorCode.RATE_LIMITED: (429, "rate_limit_error", "Too many requests. Try again shortly."),
    ErrorCode.PAYLOAD_TOO_LARGE: (413, "client_error", "The upload is larger than allowed."),
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: (
        415,
        "client_error",
        "This file type is not supported.",
    ),
    ErrorCode.ACCESS_CODE_REQUIRED: (403, "client_error", "This link needs an access code."),
    ErrorCode.ACCESS_CODE_INVALID: (403, "client_error", "The access code is not valid."),
    ErrorCode.DOWNLOADS_DISABLED: (
        403,
        "client_error",
        "Downloads are turned off for this link.",
    ),
    ErrorCode.TRACK_LINK_UNAVAILABLE: (
        404,
        "client_error",
        "This link is not available.",
    ),
    ErrorCode.MEDIA_PROCESSING: (
        409,
        "client_error",
        "This track is still being processed. Try again shortly.",
    ),
    ErrorCode.MEDIA_FAILED: (409, "client_error", "This track's audio could not be processed."),
    ErrorCode.METHOD_NOT_ALLOWED: (405, "client_error", "This method is not allowed here."),
    ErrorCode.SERVICE_UNAVAILABLE: (
        503,
        "server_error",
        "The service is temporarily unavailable. Try again shortly.",
    ),
    ErrorCode.INTERNAL_ERROR: (500, "server_error", "Something went wrong on our side."),
}


def default_status(code: ErrorCode) -> int:
    return _DEFAULTS[code][0]


class ErrorBody(BaseModel):
    code: ErrorCode
    message: str
    system_message: str
    type: ErrorType
    status: int
    details: dict[str, Any] = Field(default_factory=dict)
    trace_id: str | None = None
    timestamp: str

    @field_serializer("details")
    def _plain_decimals(self, details: dict[str, Any]) -> dict[str, Any]:
        """A sum of percentages reads "80", not "8E+1" (as `str(Decimal)` may have it)."""
        rendered: dict[str, Any] = plain_decimals(details)
        return rendered


class ErrorEnvelope(BaseModel):
    success: Literal[False] = False
    error: ErrorBody


def utc_timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def build_error(
    code: ErrorCode,
    system_message: str,
    *,
    details: dict[str, Any] | None = None,
    trace_id: str | None = None,
    message: str | None = None,
    status: int | None = None,
) -> ErrorEnvelope:
    default_status_, error_type, default_message = _DEFAULTS[code]
    return ErrorEnvelope(
        error=ErrorBody(
            code=code,
            message=message or default_message,
            system_message=system_message,
            type=error_type,
            status=status or default_status_,
            details=details or {},
            trace_id=trace_id,
            timestamp=utc_timestamp(),
        )
    )
