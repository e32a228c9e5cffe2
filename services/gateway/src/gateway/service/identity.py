"""Users, API keys, organizations, their members and invitations: the one place the role
rules of domain/identity.py are applied against the locked rows. The admin API, the
`/v1/me` and `/v1/organizations` handlers and the operator CLI all call these."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.api.identity import (
    AddMember,
    ApiKeyCreated,
    ApiKeyView,
    ChangeRole,
    InvitationView,
    Me,
    MemberRole,
    MyOrganization,
    UserCreated,
)
from contracts.errors import ErrorCode
from gateway.auth import Membership
from gateway.context import GatewayContext
from gateway.db import identity
from gateway.db.identity import Caller, HandleTaken
from gateway.domain.identity import (
    ONLY_MANAGERS,
    Refusal,
    can_manage_members,
    effective_status,
    invitation_refusal,
    may_cancel,
    normalize_handle,
    removal_refusal,
    role_change_refusal,
)
from gateway.service.views import invitation_view, my_organization
from servicekit.errors import ApiError, not_found, validation_error

# --- users and keys ------------------------------------------------------------------------


async def register_user(
    ctx: GatewayContext, raw_handle: str, display_name: str | None
) -> UserCreated:
    """A user, their personal organization and a first key (the admin API and the CLI)."""
    handle = normalize_handle(raw_handle)
    if handle is None:
        raise validation_error(
            "invalid handle", {"handle": "1-40 characters: a-z, 0-9, '-' or '_'"}
        )
    async with ctx.sessions() as session, session.begin():
        try:
            new = await identity.create_user(
                session, handle, (display_name or handle).strip() or handle
            )
        except HandleTaken as exc:
            raise ApiError(
                ErrorCode.CONFLICT, "handle already taken", details={"handle": handle}
            ) from exc
    return UserCreated(
        user_id=new.user_id,
        handle=new.handle,
        display_name=new.display_name,
        organization_id=new.organization_id,
        api_key_id=new.api_key_id,
        api_key=new.api_key,
    )


async def me(ctx: GatewayContext, caller: Caller) -> Me:
    return Me(
        id=caller.user_id,
        handle=caller.handle,
        display_name=caller.display_name,
        organizations=await my_organizations(ctx, caller),
    )


async def list_api_keys(ctx: GatewayContext, caller: Caller) -> list[ApiKeyView]:
    async with ctx.sessions() as session:
        rows = await identity.list_api_keys(session, caller.user_id)
    return [ApiKeyView.model_validate(r, from_attributes=True) for r in rows]


async def create_api_key(ctx: GatewayContext, user_id: str, name: str) -> ApiKeyCreated:
    """Another key for the user; the raw key is in this answer only."""
    async with ctx.sessions() as session, session.begin():
        key_id, raw = await identity.create_api_key(session, user_id, name)
    return ApiKeyCreated(id=key_id, name=name, api_key=raw)


async def create_api_key_for_handle(
    ctx: GatewayContext, handle: str, name: str
) -> tuple[str, ApiKeyCreated] | None:
    """(user id, the new key) for the user with this handle; None when there is none (the
    operator CLI names users by handle)."""
    async with ctx.sessions() as session, session.begin():
        user = await identity.user_by_handle(session, handle)
        if user is None:
            return None
        key_id, raw = await identity.create_api_key(session, user.id, name)
    return user.id, ApiKeyCreated(id=key_id, name=name, api_key=raw)


async def revoke_api_key(ctx: GatewayContext, caller: Caller, key_id: str) -> None:
    async with ctx.sessions() as session, session.begin():
        if not await identity.revoke_api_key(session, caller.user_id, key_id):
            raise not_found("api key", key_id=key_id)


# --- organizations and members -------------------------------------------------------------


async def my_organizations(ctx: GatewayContext, caller: Caller) -> list[MyOrganization]:
    async with ctx.sessions() as session:
        orgs = await identity.organizations_of(session, caller.user_id)
    return [my_organization(o) for o in orgs]


async def create_organization(ctx: GatewayContext, caller: Caller, name: str) -> MyOrganization:
    """A shared (not personal) organization the caller owns."""
    name = name.strip()
    async with ctx.sessions() as session, session.begin():
        org_id = await identity.create_organization(session, name, caller.user_id)
    return MyOrganization(id=org_id, name=name, personal=False, role="owner")


async def invite(
    ctx: GatewayContext, membership: Membership, data: AddMember
) -> tuple[InvitationView, bool]:
    """The invitation and whether it is new: an open one for the same person is returned
    as it is. A member already, or a personal organization, is 409."""
    org_id = membership.organization_id
    handle = normalize_handle(data.handle)
    async with ctx.sessions() as session, session.begin():
        personal = await identity.personal_user_of(session, org_id) is not None
        # refused before the handle is looked up, then again knowing their membership
        _refuse(invitation_refusal(membership.role, personal, data.role, None))
        user = await identity.user_by_handle(session, handle) if handle else None
        if user is None:
            raise not_found("user", handle=data.handle)
        current = await identity.role_in(session, org_id, user.id)
        _refuse(invitation_refusal(membership.role, personal, data.role, current))
        row, created = await identity.invite(
            session,
            org_id,
            user.id,
            membership.caller.user_id,
            data.role,
            timedelta(days=ctx.settings.invitation_ttl_days),
        )
    return invitation_view(row), created


async def change_role(
    ctx: GatewayContext, membership: Membership, user_id: str, data: ChangeRole
) -> MemberRole:
    """A member's new role (owners and admins; only owners touch the owner role)."""
    org_id = membership.organization_id
    if not can_manage_members(membership.role):
        _refuse(ONLY_MANAGERS)
    async with ctx.sessions() as session, session.begin():
        current = await identity.role_in(session, org_id, user_id, lock=True)
        if current is None:
            raise not_found("member", user_id=user_id)
        personal_owner = await identity.personal_user_of(session, org_id) == user_id
        _refuse(
            role_change_refusal(membership.role, current, data.role, personal_owner=personal_owner)
        )
        if current == "owner" and data.role != "owner":
            await _keep_an_owner(session, org_id)
        await identity.set_role(session, org_id, user_id, data.role)
    return MemberRole(organization_id=org_id, user_id=user_id, role=data.role)


async def remove_member(ctx: GatewayContext, membership: Membership, user_id: str) -> None:
    """A manager removes a member, or a member leaves; an organization keeps an owner."""
    org_id = membership.organization_id
    leaving = user_id == membership.caller.user_id
    if not can_manage_members(membership.role) and not leaving:
        raise ApiError(ErrorCode.FORBIDDEN, "only owners and admins remove other members")
    async with ctx.sessions() as session, session.begin():
        role = await identity.role_in(session, org_id, user_id, lock=True)
        if role is None:
            raise not_found("member", user_id=user_id)
        personal_owner = await identity.personal_user_of(session, org_id) == user_id
        _refuse(
            removal_refusal(
                membership.role, role, self_removal=leaving, personal_owner=personal_owner
            )
        )
        if role == "owner":
            await _keep_an_owner(session, org_id)
        await identity.remove_member(session, org_id, user_id)


async def _keep_an_owner(session: AsyncSession, organization_id: str) -> None:
    """Called before an owner leaves or is demoted (rows locked by `role_in(lock=True)`)."""
    if await identity.owner_count(session, organization_id) <= 1:
        raise ApiError(ErrorCode.CONFLICT, "an organization keeps at least one owner")


# --- invitations ---------------------------------------------------------------------------


async def organization_invitations(
    ctx: GatewayContext, membership: Membership
) -> list[InvitationView]:
    """The organization's open invitations (owners and admins)."""
    if not can_manage_members(membership.role):
        _refuse(ONLY_MANAGERS)
    async with ctx.sessions() as session:
        rows = await identity.pending_invitations_of(session, membership.organization_id)
    return [invitation_view(r) for r in rows]


async def cancel_invitation(
    ctx: GatewayContext, membership: Membership, invitation_id: str
) -> None:
    """Owners and admins, or whoever sent it; 409 once it was answered or expired."""
    async with ctx.sessions() as session, session.begin():
        row = await identity.invitation_for_update(
            session, invitation_id, organization_id=membership.organization_id
        )
        if row is None:
            raise not_found("invitation", invitation_id=invitation_id)
        if not may_cancel(membership.role, membership.caller.user_id, row.invited_by):
            _refuse(ONLY_MANAGERS)
        _require_open(row)
        await identity.close_invitation(session, invitation_id, "cancelled")


async def my_invitations(ctx: GatewayContext, caller: Caller) -> list[InvitationView]:
    async with ctx.sessions() as session:
        rows = await identity.pending_invitations_for(session, caller.user_id)
    return [invitation_view(r) for r in rows]


async def accept_invitation(
    ctx: GatewayContext, caller: Caller, invitation_id: str
) -> InvitationView:
    """Makes the caller a member with the invitation's role."""
    async with ctx.sessions() as session, session.begin():
        row = await _my_open_invitation(session, invitation_id, caller)
        if not await identity.add_member(session, row.organization_id, caller.user_id, row.role):
            raise ApiError(
                ErrorCode.CONFLICT,
                "already a member of this organization",
                details={"invitation_id": invitation_id},
            )
        return invitation_view(await identity.close_invitation(session, invitation_id, "accepted"))


async def decline_invitation(
    ctx: GatewayContext, caller: Caller, invitation_id: str
) -> InvitationView:
    async with ctx.sessions() as session, session.begin():
        await _my_open_invitation(session, invitation_id, caller)
        return invitation_view(await identity.close_invitation(session, invitation_id, "declined"))


async def _my_open_invitation(session: AsyncSession, invitation_id: str, caller: Caller) -> Any:
    """Only the invitee finds it: anyone else gets the 404 of an id that does not exist."""
    row = await identity.invitation_for_update(session, invitation_id, invitee_id=caller.user_id)
    if row is None:
        raise not_found("invitation", invitation_id=invitation_id)
    _require_open(row)
    return row


def _require_open(row: Any) -> None:
    status = effective_status(row.status, row.expires_at, row.now)
    if status != "pending":
        raise ApiError(
            ErrorCode.CONFLICT,
            f"this invitation is {status}",
            details={"invitation_id": row.id, "status": status},
        )


def _refuse(refusal: Refusal | None) -> None:
    if refusal is not None:
        code = ErrorCode.CONFLICT if refusal.kind == "conflict" else ErrorCode.FORBIDDEN
        raise ApiError(code, refusal.reason)
