"""Creating links of every kind (one insert plus its `share.lifecycle` event, together) and
finding the live link behind a raw token."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from tenacity import AsyncRetrying, retry_if_exception_type, retry_never, stop_after_attempt

from contracts import ids
from contracts.hashing import hash_secret, token_preview
from sharing.context import SharingContext
from sharing.db import links as repo
from sharing.domain.links import is_live, link_expiry
from sharing.service.events import emit
from sharing.service.views import link_lifecycle

MAX_ATTEMPTS = 5


def new_pack_slug() -> str:
    return secrets.token_urlsafe(9)


async def create_link(
    ctx: SharingContext,
    values: dict[str, Any],
    *,
    unique_field: str | None = None,
    make_unique: Callable[[], str] | None = None,
    preview: Callable[[], str] | None = None,
) -> Any:
    """Insert a link; a random `unique_field` (ref code, slug) is redrawn on collision."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(IntegrityError) if unique_field else retry_never,
        stop=stop_after_attempt(MAX_ATTEMPTS),
        reraise=True,
    )
    row: Any = await retrying(insert_link_once, ctx, values, unique_field, make_unique, preview)
    return row


async def insert_link_once(
    ctx: SharingContext,
    values: dict[str, Any],
    unique_field: str | None,
    make_unique: Callable[[], str] | None,
    preview: Callable[[], str] | None,
) -> Any:
    """One attempt: fresh id and random fields, the row and its event in one transaction."""
    row_values = {"id": ids.new_share_link_id(), **values}
    if unique_field and make_unique:
        row_values[unique_field] = make_unique()
    if preview:
        row_values["token_preview"] = preview()
    async with ctx.sessions() as session, session.begin():
        row = await repo.insert_link(session, row_values)
        await emit(ctx, session, link_lifecycle(row, "created"))
    return row


async def create_token_link(
    ctx: SharingContext, values: dict[str, Any], expires_in_days: int | None
) -> tuple[Any, str]:
    """A capability link (track, split sheet): returns the row and the raw token, which
    exists only in this response; the database keeps its hash and a preview."""
    token = ids.new_share_token()
    row = await create_link(
        ctx,
        {
            **values,
            "token_hash": hash_secret(token),
            "token_preview": token_preview(token),
            "expires_at": link_expiry(
                datetime.now(UTC), expires_in_days, ctx.settings.max_link_days
            ),
        },
    )
    return row, token


async def live_token_link(ctx: SharingContext, token: str, kind: str) -> Any:
    """The live link of this kind behind a raw token, or None (unknown, revoked, expired)."""
    async with ctx.sessions() as session:
        link = await repo.by_token_hash(session, hash_secret(token))
    if (
        link is None
        or link.kind != kind
        or not is_live(link.revoked_at, link.expires_at, datetime.now(UTC))
    ):
        return None
    return link
