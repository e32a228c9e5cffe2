"""Who is calling: an API key in `X-API-Key` or `Authorization: Bearer`, and org membership.

Every check runs in one app-wide guard (`authentication_guard`). Litestar runs guards before
it reads a request's body or resolves a handler's dependencies, so a caller without a valid
key (or outside the organization, or without the admin key) is refused before a byte of
the body is read. The `caller_or_none`, `caller` and `membership` dependencies hand the
handler what the guard found.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from contracts.errors import ErrorCode
from gateway.context import GatewayContext
from gateway.dashboard import sessions
from gateway.db import identity
from gateway.db.identity import Caller
from servicekit.errors import ApiError, not_found
from servicekit.internal import Actor

Connection = ASGIConnection[Any, Any, Any, Any]
Guard = Callable[[Connection, BaseRouteHandler], Awaitable[None]]

# a handler marked with this option answers only to the operator's admin key
ADMIN_ONLY = {"admin_only": True}
# a handler (or controller) marked with this also takes the dashboard's session cookie
# when no key is sent, with the CSRF header on unsafe methods (dashboard/sessions.py)
SESSION_COOKIE_OK = {"session_cookie": True}

_CALLER = "encore_caller"  # connection state keys the guard fills for the dependencies
_MEMBERSHIP = "encore_membership"


def presented_key(connection: Connection) -> str | None:
    key = connection.headers.get("x-api-key")
    if key:
        return key.strip()
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _auth_required(reason: str) -> ApiError:
    return ApiError(
        ErrorCode.AUTHENTICATION_REQUIRED, reason, headers={"WWW-Authenticate": "Bearer"}
    )


@dataclass(frozen=True, slots=True)
class Membership:
    organization_id: str
    role: str
    caller: Caller


async def _optional_caller(connection: Connection, ctx: GatewayContext) -> Caller | None:
    """The caller if a valid key was sent; None if none was; 401 for a wrong one."""
    raw = presented_key(connection)
    if raw is None:
        return None
    async with ctx.reads() as session:
        caller = await identity.authenticate(session, raw)
    if caller is None:
        raise _auth_required("Invalid or revoked API key")
    return caller


async def _membership(connection: Connection, org: str, ctx: GatewayContext) -> Membership:
    """The caller and their role in `org`, read in one statement. 401 as for `caller` when
    the key is missing or not valid; 404, not 403, for an org the caller is not in: nothing
    reveals that it exists."""
    raw = presented_key(connection)
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


def _require_admin(connection: Connection, ctx: GatewayContext) -> None:
    configured = ctx.settings.admin_api_key
    raw = presented_key(connection)
    if (
        configured is None
        or raw is None
        or not hmac.compare_digest(raw.encode(), configured.get_secret_value().encode())
    ):
        raise _auth_required("This call needs the operator's admin key")


def authentication_guard(ctx: GatewayContext) -> Guard:
    """The app-wide guard. What a handler needs is read from what it asks for: `membership`
    (the caller in the path's `{org}`), `caller` (a valid key), `caller_or_none` (a key is
    optional, a wrong one is 401), or the `ADMIN_ONLY` option; other handlers pass."""

    async def guard(connection: Connection, handler: BaseRouteHandler) -> None:
        if handler.opt.get("admin_only"):
            _require_admin(connection, ctx)
        wanted = handler.parsed_fn_signature.parameters
        if "membership" in wanted:
            connection.state[_MEMBERSHIP] = await _membership(
                connection, connection.path_params["org"], ctx
            )
        elif "caller" in wanted or "caller_or_none" in wanted:
            caller = await _optional_caller(connection, ctx)
            if caller is None and handler.opt.get("session_cookie"):
                caller = await sessions.cookie_caller(connection, ctx)
            if caller is None and "caller" in wanted:
                raise _auth_required("Missing or invalid authorization header")
            connection.state[_CALLER] = caller

    return guard


async def provide_optional_caller(
    request: Request[Any, Any, Any], ctx: GatewayContext
) -> Caller | None:
    """What the guard found; checked here only for a dependency no handler names itself."""
    if _CALLER in request.state:
        found: Caller | None = request.state[_CALLER]
        return found
    return await _optional_caller(request, ctx)


async def provide_caller(caller_or_none: Caller | None) -> Caller:
    if caller_or_none is None:
        raise _auth_required("Missing or invalid authorization header")
    return caller_or_none


async def provide_membership(
    org: str, request: Request[Any, Any, Any], ctx: GatewayContext
) -> Membership:
    if _MEMBERSHIP in request.state:
        found: Membership = request.state[_MEMBERSHIP]
        return found
    return await _membership(request, org, ctx)


def actor(caller: Caller | None) -> Actor | None:
    if caller is None:
        return None
    return Actor(user_id=caller.user_id, handle=caller.handle, display_name=caller.display_name)
