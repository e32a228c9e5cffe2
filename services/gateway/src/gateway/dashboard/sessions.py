"""Signing in to the dashboard: an API key, pasted once, exchanged for a session cookie.

- The cookie holds a random session id; the database holds only its hash (db/dashboard_sessions).
  HttpOnly, SameSite=Lax, Secure when the public base URL is https (as the access-code cookie).
- Every request re-reads the session with its API key in one statement, so revoking the
  key, signing out or passing a limit (idle, absolute) ends it at once, on every replica.
- CSRF: each form carries a token derived from the session id (a keyed hash: only someone
  who holds the HttpOnly cookie can know it), checked on every POST; the sign-in form, before
  there is a session, uses a double-submit cookie. Cookie-authenticated JSON calls (the
  signed-in pack-link surface) send the same token in `X-CSRF-Token` on unsafe methods.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from contracts.errors import ErrorCode
from gateway.context import GatewayContext
from gateway.db import dashboard_sessions, identity
from gateway.db.identity import Caller
from servicekit.errors import ApiError

SESSION_COOKIE = "encore_session"
LOGIN_COOKIE = "encore_login"  # the sign-in form's double-submit CSRF token
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
Connection = ASGIConnection[Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class SignedIn:
    caller: Caller
    csrf: str  # what this session's forms must send back

    @property
    def organization_id(self) -> str:
        assert self.caller.personal_organization_id is not None
        return self.caller.personal_organization_id


def csrf_for(raw_session_id: str) -> str:
    return hmac.new(raw_session_id.encode(), b"encore-dashboard-csrf", hashlib.sha256).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def _secure(ctx: GatewayContext) -> bool:
    return (ctx.settings.public_base_url or "").startswith("https:")


def _idle(ctx: GatewayContext) -> timedelta:
    return timedelta(minutes=ctx.settings.dashboard_session_idle_minutes)


def session_cookie(ctx: GatewayContext, raw_id: str) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=raw_id,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(ctx),
        max_age=int(ctx.settings.dashboard_session_max_hours * 3600),
    )


def cleared_session_cookie(ctx: GatewayContext) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value="",
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(ctx),
        max_age=0,
    )


def login_cookie(ctx: GatewayContext, token: str) -> Cookie:
    return Cookie(
        key=LOGIN_COOKIE,
        value=token,
        path="/app/login",
        httponly=True,
        samesite="strict",
        secure=_secure(ctx),
        max_age=3600,
    )


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


async def sign_in(ctx: GatewayContext, raw_key: str) -> tuple[str, Caller] | None:
    """A new session for a live API key (None for any other key): its raw id and caller."""
    async with ctx.sessions() as session, session.begin():
        caller = await identity.authenticate(session, raw_key.strip())
        if caller is None or caller.personal_organization_id is None:
            return None
        raw_id = secrets.token_urlsafe(32)
        await dashboard_sessions.create(
            session,
            raw_id,
            caller,
            timedelta(hours=ctx.settings.dashboard_session_max_hours),
            _idle(ctx),
        )
    return raw_id, caller


async def sign_out(ctx: GatewayContext, connection: Connection) -> None:
    raw_id = connection.cookies.get(SESSION_COOKIE)
    if raw_id:
        async with ctx.sessions() as session, session.begin():
            await dashboard_sessions.end(session, raw_id)


async def current(connection: Connection, ctx: GatewayContext) -> SignedIn | None:
    """The signed-in session of this request, or None (no cookie, over, or its key revoked)."""
    raw_id = connection.cookies.get(SESSION_COOKIE)
    if not raw_id or len(raw_id) > 100:
        return None
    async with ctx.reads() as session:
        caller = await dashboard_sessions.live_caller(session, raw_id, _idle(ctx))
    if caller is None:
        return None
    return SignedIn(caller, csrf_for(raw_id))


async def cookie_caller(connection: Connection, ctx: GatewayContext) -> Caller | None:
    """For JSON routes that accept the dashboard's cookie: its caller, with the CSRF header
    required on unsafe methods (403 without it: a cross-site form cannot set a header)."""
    raw_id = connection.cookies.get(SESSION_COOKIE)
    if not raw_id:
        return None
    if connection.scope.get("method", "GET") not in SAFE_METHODS and not same(
        connection.headers.get(CSRF_HEADER), csrf_for(raw_id)
    ):
        raise ApiError(ErrorCode.FORBIDDEN, "a cookie-authenticated change needs X-CSRF-Token")
    signed_in = await current(connection, ctx)
    return None if signed_in is None else signed_in.caller
