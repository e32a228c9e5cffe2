"""Who is calling: an API key in `X-API-Key` or `Authorization: Bearer`, and org membership."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from litestar import Request

from contracts.errors import ErrorCode
from gateway.context import GatewayContext
from gateway.db import identity
from gateway.db.identity import Caller
from servicekit.errors import ApiError, not_found
from servicekit.internal import Actor


def presented_key(request: Request[Any, Any, Any]) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _auth_required(reason: str) -> ApiError:
    return ApiError(
        ErrorCode.AUTHENTICATION_REQUIRED, reason, headers={"WWW-Authenticate": "Bearer"}
    )


async def provide_optional_caller(
    request: Request[Any, Any, Any], ctx: GatewayContext
) -> Caller | None:
    """The caller if a valid key was sent; None if none was; 401 for a wrong one."""
    raw = presented_key(request)
    if raw is None:
        return None
    async with ctx.reads() as session:
        caller = await identity.authenticate(session, raw)
    if caller is None:
        raise _auth_required("Invalid or revoked API key")
    return caller


async def provide_caller(caller_or_none: Caller | None) -> Caller:
    if caller_or_none is None:
        raise _auth_required("Missing or invalid authorization header")
    return caller_or_none


def require_admin(request: Request[Any, Any, Any], ctx: GatewayContext) -> None:
    configured = ctx.settings.admin_api_key
    raw = presented_key(request)
    if (
        configured is None
        or raw is None
        or not hmac.compare_digest(raw.encode(), configured.get_secret_value().encode())
    ):
        raise _auth_required("This call needs the operator's admin key")


@dataclass(frozen=True, slots=True)
class Membership:
    organization_id: str
    role: str
    caller: Caller


async def provide_membership(
    org: str, request: Request[Any, Any, Any], ctx: GatewayContext
) -> Membership:
    """The caller and their role in `org`, read in one statement. 401 as for `caller` when
    the key is missing or not valid; 404, not 403, for an org the caller is not in: nothing
    reveals that it exists."""
    raw = presented_key(request)
    if raw is None:
        raise _auth_required("Missing or invalid authorization header")
    async with ctx.reads() as session:
        found = await identity.authenticate_member(session, raw, org)
    if found is None:
        raise _auth_required("Invalid or revoked API key")
    caller, role = found
    if role is None:
        raise not_found("organization", organization_id=org)
    return Membership(org, role, caller)


def actor(caller: Caller | None) -> Actor | None:
    if caller is None:
        return None
    return Actor(user_id=caller.user_id, handle=caller.handle, display_name=caller.display_name)
