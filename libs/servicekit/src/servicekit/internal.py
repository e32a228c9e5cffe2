"""How services trust a caller: the gateway's internal credential plus who it acts for.

The gateway authenticates the end user and forwards the result in these headers; internal
APIs accept them only alongside the shared internal token.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Scope
from pydantic import ValidationError

from contracts.errors import ErrorCode
from contracts.events import Device, PreviewReason
from servicekit.errors import ApiError

INTERNAL_TOKEN_HEADER = "X-Internal-Token"  # noqa: S105 - a header name
USER_ID_HEADER = "X-Encore-User-Id"
USER_HANDLE_HEADER = "X-Encore-User-Handle"
USER_NAME_HEADER = "X-Encore-User-Name"
ORG_ID_HEADER = "X-Encore-Org-Id"
ORG_ROLE_HEADER = "X-Encore-Org-Role"
# catalog -> gateway on a media response: the share link and track a signed URL is bound to
MEDIA_LINK_HEADER = "X-Encore-Media-Link"
MEDIA_SUBJECT_HEADER = "X-Encore-Media-Subject"
# gateway -> services: the visitor's device as the gateway parsed it (never the raw
# User-Agent), and what the gateway decided of an engagement before the service records it
DEVICE_HEADER = "X-Encore-Device"
ENGAGEMENT_HEADER = "X-Encore-Engagement"  # "preview:<reason>", "limited" or "none"; absent: record
NOT_A_VISIT = "none"  # the gateway's verdict for a read that is no new visit: record nothing
MANAGING_ROLES = frozenset({"owner", "admin"})


@dataclass(frozen=True, slots=True)
class Actor:
    """The end user a request acts for, as the gateway established it (or nobody)."""

    user_id: str | None
    handle: str | None = None
    display_name: str | None = None
    org_role: str | None = None

    def manages_org(self) -> bool:
        return self.org_role in MANAGING_ROLES

    def require_user(self) -> str:
        if not self.user_id:
            raise ApiError(ErrorCode.AUTHENTICATION_REQUIRED, "no user on internal request")
        return self.user_id


def actor_of(request: Request[Any, Any, Any]) -> Actor:
    headers = request.headers
    return Actor(
        user_id=headers.get(USER_ID_HEADER) or None,
        handle=headers.get(USER_HANDLE_HEADER) or None,
        display_name=unquote(headers.get(USER_NAME_HEADER) or "") or None,
        org_role=headers.get(ORG_ROLE_HEADER) or None,
    )


def encode_device(device: Device) -> str:
    """A header value (ASCII whatever the family names hold)."""
    return quote(device.model_dump_json(), safe="")


def device_of(request: Request[Any, Any, Any]) -> Device | None:
    """The device the gateway parsed for this request; None when absent or malformed."""
    value = request.headers.get(DEVICE_HEADER)
    if not value:
        return None
    try:
        return Device.model_validate_json(unquote(value))
    except ValidationError:
        return None


def engagement_of(request: Request[Any, Any, Any]) -> tuple[bool, PreviewReason | None]:
    """(record it, preview reason): what the gateway decided of this request's engagement.
    Not recorded when the client is over its anonymous-engagement limit, nor when the read
    is no new visit (`none`: a posted access code answered by a redirect to the page that
    counts, the player's URL fetched before the click or renewed during a play); a preview
    is recorded as `share.previewed` by the surfaces that open links, and as nothing else."""
    value = request.headers.get(ENGAGEMENT_HEADER, "")
    if value in ("limited", NOT_A_VISIT):
        return False, None
    if value.startswith("preview:"):
        reason = value.removeprefix("preview:")
        if reason in ("preview_fetcher", "bot", "head", "prefetch"):
            return True, reason  # type: ignore[return-value]  # checked against the Literal
        return True, "bot"
    return True, None


def internal_token_guard(expected: str):  # type: ignore[no-untyped-def]
    """A Litestar guard that rejects calls without the internal credential."""

    # async: Litestar would run a sync guard in a worker thread, a hop on every internal call
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        given = connection.headers.get(INTERNAL_TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError(ErrorCode.AUTHENTICATION_REQUIRED, "missing internal credential")

    return guard


def carries_internal_token(expected: str) -> Callable[[Scope], bool]:
    """Whether a request carries the internal credential (checked before any guard runs:
    the request middleware takes a trace id only from such callers)."""
    key, wanted = INTERNAL_TOKEN_HEADER.lower().encode(), expected.encode()

    def check(scope: Scope) -> bool:
        return any(k == key and hmac.compare_digest(v, wanted) for k, v in scope["headers"])

    return check
