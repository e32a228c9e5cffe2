"""Users, organizations, memberships, invitations and API keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import ids
from contracts.hashing import hash_secret, token_preview
from gateway.db.models import api_keys, invitations, memberships, organizations, users


class HandleTaken(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated user, as the gateway forwards it to services."""

    user_id: str
    handle: str
    display_name: str
    api_key_id: str | None = None
    personal_organization_id: str | None = None


@dataclass(frozen=True, slots=True)
class NewUser:
    user_id: str
    handle: str
    display_name: str
    organization_id: str
    api_key_id: str
    api_key: str


async def create_user(session: AsyncSession, handle: str, display_name: str) -> NewUser:
    """A user, their personal organization (they own it) and a first API key."""
    user_id = ids.new_user_id()
    org_id = ids.new_organization_id()
    try:
        async with session.begin_nested():
            await session.execute(
                insert(users).values(id=user_id, handle=handle, display_name=display_name)
            )
    except IntegrityError as exc:
        raise HandleTaken(handle) from exc
    await session.execute(
        insert(organizations).values(
            id=org_id, name=display_name, personal=True, personal_user_id=user_id
        )
    )
    await session.execute(
        insert(memberships).values(organization_id=org_id, user_id=user_id, role="owner")
    )
    key_id, raw_key = await create_api_key(session, user_id, "default")
    return NewUser(user_id, handle, display_name, org_id, key_id, raw_key)


async def create_api_key(session: AsyncSession, user_id: str, name: str) -> tuple[str, str]:
    raw = ids.new_api_key()
    key_id = ids.new_api_key_record_id()
    await session.execute(
        insert(api_keys).values(
            id=key_id,
            user_id=user_id,
            name=name,
            key_hash=hash_secret(raw),
            key_preview=token_preview(raw),
        )
    )
    return key_id, raw


async def list_api_keys(session: AsyncSession, user_id: str) -> Sequence[Any]:
    stmt = (
        select(
            api_keys.c.id,
            api_keys.c.name,
            api_keys.c.key_preview,
            api_keys.c.created_at,
            api_keys.c.revoked_at,
        )
        .where(api_keys.c.user_id == user_id)
        .order_by(api_keys.c.created_at.desc())
    )
    return (await session.execute(stmt)).all()


async def revoke_api_key(session: AsyncSession, user_id: str, key_id: str) -> bool:
    result = await session.execute(
        update(api_keys)
        .where(
            api_keys.c.id == key_id, api_keys.c.user_id == user_id, api_keys.c.revoked_at.is_(None)
        )
        .values(revoked_at=func.now())
        .returning(api_keys.c.id)
    )
    return result.first() is not None


def _caller_by_key(raw_key: str) -> Select[Any]:
    """The live (not revoked) key's user, key id and personal organization (by its unique
    `personal_user_id`, never "some personal org the user belongs to")."""
    personal = (
        select(organizations.c.id)
        .where(organizations.c.personal_user_id == users.c.id, organizations.c.personal.is_(True))
        .scalar_subquery()
    )
    return (
        select(
            users.c.id,
            users.c.handle,
            users.c.display_name,
            api_keys.c.id.label("key_id"),
            personal.label("personal_org"),
        )
        .join(api_keys, api_keys.c.user_id == users.c.id)
        .where(api_keys.c.key_hash == hash_secret(raw_key), api_keys.c.revoked_at.is_(None))
    )


def _caller(row: Any) -> Caller:
    return Caller(row.id, row.handle, row.display_name, row.key_id, row.personal_org)


async def authenticate(session: AsyncSession, raw_key: str) -> Caller | None:
    row = (await session.execute(_caller_by_key(raw_key))).first()
    return None if row is None else _caller(row)


async def authenticate_member(
    session: AsyncSession, raw_key: str, organization_id: str
) -> tuple[Caller, str | None] | None:
    """`authenticate` and the caller's role in the organization (None: not a member) in one
    statement: org-scoped routes are most of the API, and this was two round trips. Read at
    every request, never cached, so a revoked key or a removed member stops at once."""
    role = (
        select(memberships.c.role)
        .where(
            memberships.c.organization_id == organization_id,
            memberships.c.user_id == users.c.id,
        )
        .scalar_subquery()
    )
    row = (await session.execute(_caller_by_key(raw_key).add_columns(role.label("role")))).first()
    return None if row is None else (_caller(row), row.role)


async def user_by_handle(session: AsyncSession, handle: str) -> Any:
    return (await session.execute(select(users).where(users.c.handle == handle))).first()


async def role_in(
    session: AsyncSession, organization_id: str, user_id: str, *, lock: bool = False
) -> str | None:
    """The user's role; `lock` also locks the org's owner rows, so two concurrent changes
    cannot both see "another owner remains"."""
    if lock:
        await session.execute(
            select(memberships.c.user_id)
            .where(memberships.c.organization_id == organization_id, memberships.c.role == "owner")
            .with_for_update()
        )
    return await session.scalar(
        select(memberships.c.role).where(
            memberships.c.organization_id == organization_id, memberships.c.user_id == user_id
        )
    )


async def organizations_of(session: AsyncSession, user_id: str) -> Sequence[Any]:
    stmt = (
        select(
            organizations.c.id, organizations.c.name, organizations.c.personal, memberships.c.role
        )
        .join(memberships, memberships.c.organization_id == organizations.c.id)
        .where(memberships.c.user_id == user_id)
        .order_by(organizations.c.created_at)
    )
    return (await session.execute(stmt)).all()


async def create_organization(session: AsyncSession, name: str, owner_id: str) -> str:
    org_id = ids.new_organization_id()
    await session.execute(insert(organizations).values(id=org_id, name=name, personal=False))
    await session.execute(
        insert(memberships).values(organization_id=org_id, user_id=owner_id, role="owner")
    )
    return org_id


async def personal_user_of(session: AsyncSession, organization_id: str) -> str | None:
    """The user whose personal organization this is; None for every other organization."""
    return await session.scalar(
        select(organizations.c.personal_user_id).where(organizations.c.id == organization_id)
    )


async def set_role(session: AsyncSession, organization_id: str, user_id: str, role: str) -> None:
    await session.execute(
        update(memberships)
        .where(memberships.c.organization_id == organization_id, memberships.c.user_id == user_id)
        .values(role=role)
    )


async def add_member(session: AsyncSession, organization_id: str, user_id: str, role: str) -> bool:
    """False when the user is already a member (their role is left as it is)."""
    result = await session.execute(
        pg_insert(memberships)
        .values(organization_id=organization_id, user_id=user_id, role=role)
        .on_conflict_do_nothing(
            index_elements=[memberships.c.organization_id, memberships.c.user_id]
        )
        .returning(memberships.c.user_id)
    )
    return result.first() is not None


async def remove_member(session: AsyncSession, organization_id: str, user_id: str) -> bool:
    result = await session.execute(
        delete(memberships)
        .where(memberships.c.organization_id == organization_id, memberships.c.user_id == user_id)
        .returning(memberships.c.user_id)
    )
    return result.first() is not None


async def owner_count(session: AsyncSession, organization_id: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(memberships)
            .where(memberships.c.organization_id == organization_id, memberships.c.role == "owner")
        )
        or 0
    )


# --- invitations -----------------------------------------------------------------------------

_invitee = users.alias("invitee")
_inviter = users.alias("inviter")
_PENDING_LIVE: ColumnElement[bool] = (invitations.c.status == "pending") & (
    invitations.c.expires_at > func.now()
)


def _invitation_view() -> Select[Any]:
    """An invitation as callers see it: the organization's name and both handles."""
    return (
        select(
            invitations.c.id,
            invitations.c.organization_id,
            organizations.c.name.label("organization_name"),
            invitations.c.invitee_id,
            _invitee.c.handle.label("invitee_handle"),
            invitations.c.invited_by,
            _inviter.c.handle.label("inviter_handle"),
            invitations.c.role,
            invitations.c.status,
            invitations.c.created_at,
            invitations.c.expires_at,
            invitations.c.responded_at,
            func.now().label("now"),
        )
        .join(organizations, organizations.c.id == invitations.c.organization_id)
        .join(_invitee, _invitee.c.id == invitations.c.invitee_id)
        .outerjoin(_inviter, _inviter.c.id == invitations.c.invited_by)
    )


async def invite(
    session: AsyncSession,
    organization_id: str,
    invitee_id: str,
    invited_by: str,
    role: str,
    ttl: timedelta,
) -> tuple[Any, bool]:
    """A pending invitation, and whether it is new: an open one for the same person and
    organization is returned as it is (the partial unique index settles concurrent calls).
    A pending one past its expiry is first marked expired, so it does not block a new one."""
    await session.execute(
        update(invitations)
        .where(
            invitations.c.organization_id == organization_id,
            invitations.c.invitee_id == invitee_id,
            invitations.c.status == "pending",
            invitations.c.expires_at <= func.now(),
        )
        .values(status="expired")
    )
    inserted = await session.execute(
        pg_insert(invitations)
        .values(
            id=ids.new_invitation_id(),
            organization_id=organization_id,
            invitee_id=invitee_id,
            invited_by=invited_by,
            role=role,
            expires_at=func.now() + ttl,
        )
        .on_conflict_do_nothing(
            index_elements=[invitations.c.organization_id, invitations.c.invitee_id],
            index_where=text("status = 'pending'"),
        )
        .returning(invitations.c.id)
    )
    new_id = inserted.scalar()
    where = (
        invitations.c.id == new_id
        if new_id is not None
        else (
            (invitations.c.organization_id == organization_id)
            & (invitations.c.invitee_id == invitee_id)
            & (invitations.c.status == "pending")
        )
    )
    row = (await session.execute(_invitation_view().where(where))).one()
    return row, new_id is not None


async def pending_invitations_for(session: AsyncSession, invitee_id: str) -> Sequence[Any]:
    stmt = (
        _invitation_view()
        .where(invitations.c.invitee_id == invitee_id, _PENDING_LIVE)
        .order_by(invitations.c.created_at, invitations.c.id)
    )
    return list((await session.execute(stmt)).all())


async def pending_invitations_of(session: AsyncSession, organization_id: str) -> Sequence[Any]:
    stmt = (
        _invitation_view()
        .where(invitations.c.organization_id == organization_id, _PENDING_LIVE)
        .order_by(invitations.c.created_at, invitations.c.id)
    )
    return list((await session.execute(stmt)).all())


async def invitation_for_update(
    session: AsyncSession,
    invitation_id: str,
    *,
    invitee_id: str | None = None,
    organization_id: str | None = None,
) -> Any:
    """The invitation, locked, if it is the invitee's (or the organization's); else None."""
    stmt = _invitation_view().where(invitations.c.id == invitation_id)
    if invitee_id is not None:
        stmt = stmt.where(invitations.c.invitee_id == invitee_id)
    if organization_id is not None:
        stmt = stmt.where(invitations.c.organization_id == organization_id)
    return (await session.execute(stmt.with_for_update(of=invitations))).first()


async def close_invitation(session: AsyncSession, invitation_id: str, status: str) -> Any:
    """Record the answer (accepted, declined, cancelled, expired) and return the view."""
    await session.execute(
        update(invitations)
        .where(invitations.c.id == invitation_id)
        .values(status=status, responded_at=func.now())
    )
    return (
        await session.execute(_invitation_view().where(invitations.c.id == invitation_id))
    ).one()
