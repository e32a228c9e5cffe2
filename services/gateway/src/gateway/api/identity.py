"""Users, my API keys, organizations, their members and invitations to join them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from litestar import Controller, Response, delete, get, patch, post
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Operation, RequestBody

from contracts.api.identity import (
    AddMember,
    ApiKeyCreated,
    ApiKeyView,
    ChangeRole,
    CreateApiKey,
    CreateOrganization,
    CreateUser,
    InvitationView,
    InvitedOrganization,
    Me,
    MemberRole,
    MyOrganization,
    UserCreated,
)
from contracts.errors import ErrorCode
from gateway.auth import ADMIN_ONLY, Membership
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
from servicekit.errors import ApiError, not_found, validation_error


@dataclass
class OptionalBodyOperation(Operation):
    """The operation of a route whose body may be left out (its `data` has a default).
    Litestar marks every request body required, which tells clients and fuzzers that the
    call without one is refused when it is not."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False


async def register_user(
    ctx: GatewayContext, raw_handle: str, display_name: str | None
) -> UserCreated:
    """Shared by the admin API and the operator CLI."""
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


async def _keep_an_owner(session: Any, organization_id: str) -> None:
    """Called before an owner leaves or is demoted (rows locked by `role_in(lock=True)`)."""
    if await identity.owner_count(session, organization_id) <= 1:
        raise ApiError(ErrorCode.CONFLICT, "an organization keeps at least one owner")


class UsersController(Controller):
    path = "/v1/users"

    @post("/", status_code=201, opt=ADMIN_ONLY)  # the key is checked before the body is read
    async def create(self, data: CreateUser, ctx: GatewayContext) -> UserCreated:
        return await register_user(ctx, data.handle, data.display_name)


class MeController(Controller):
    path = "/v1/me"

    @get("/")
    async def me(self, caller: Caller, ctx: GatewayContext) -> Me:
        async with ctx.sessions() as session:
            orgs = await identity.organizations_of(session, caller.user_id)
        return Me(
            id=caller.user_id,
            handle=caller.handle,
            display_name=caller.display_name,
            organizations=[_my_organization(o) for o in orgs],
        )

    @get("/api-keys")
    async def list_keys(self, caller: Caller, ctx: GatewayContext) -> list[ApiKeyView]:
        async with ctx.sessions() as session:
            rows = await identity.list_api_keys(session, caller.user_id)
        return [ApiKeyView.model_validate(r, from_attributes=True) for r in rows]

    @post("/api-keys", status_code=201, operation_class=OptionalBodyOperation)
    async def create_key(
        self, caller: Caller, ctx: GatewayContext, data: CreateApiKey | None = None
    ) -> ApiKeyCreated:
        name = (data or CreateApiKey()).name
        async with ctx.sessions() as session, session.begin():
            key_id, raw = await identity.create_api_key(session, caller.user_id, name)
        return ApiKeyCreated(id=key_id, name=name, api_key=raw)

    @delete("/api-keys/{key_id:str}", status_code=204)
    async def revoke_key(self, key_id: str, caller: Caller, ctx: GatewayContext) -> None:
        async with ctx.sessions() as session, session.begin():
            if not await identity.revoke_api_key(session, caller.user_id, key_id):
                raise not_found("api key", key_id=key_id)


class OrganizationsController(Controller):
    path = "/v1/organizations"

    @get("/")
    async def mine(self, caller: Caller, ctx: GatewayContext) -> list[MyOrganization]:
        async with ctx.sessions() as session:
            orgs = await identity.organizations_of(session, caller.user_id)
        return [_my_organization(o) for o in orgs]

    @post("/", status_code=201)
    async def create(
        self, data: CreateOrganization, caller: Caller, ctx: GatewayContext
    ) -> MyOrganization:
        async with ctx.sessions() as session, session.begin():
            org_id = await identity.create_organization(session, data.name.strip(), caller.user_id)
        return MyOrganization(id=org_id, name=data.name.strip(), personal=False, role="owner")

    @post(
        "/{org:str}/members",
        status_code=201,
        responses={200: ResponseSpec(InvitationView, description="The open invitation, as it is")},
    )
    async def invite(
        self, data: AddMember, membership: Membership, ctx: GatewayContext
    ) -> Response[InvitationView]:
        """Invites the user: they become a member once they accept (201). An open invitation
        for the same person is returned as it is (200); a member already, or a personal
        organization, is 409."""
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
        return Response(_invitation(row), status_code=201 if created else 200)

    @patch("/{org:str}/members/{user_id:str}")
    async def change_role(
        self, user_id: str, data: ChangeRole, membership: Membership, ctx: GatewayContext
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
                role_change_refusal(
                    membership.role, current, data.role, personal_owner=personal_owner
                )
            )
            if current == "owner" and data.role != "owner":
                await _keep_an_owner(session, org_id)
            await identity.set_role(session, org_id, user_id, data.role)
        return MemberRole(organization_id=org_id, user_id=user_id, role=data.role)

    @delete("/{org:str}/members/{user_id:str}", status_code=204)
    async def remove_member(
        self, user_id: str, membership: Membership, ctx: GatewayContext
    ) -> None:
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

    @get("/{org:str}/invitations")
    async def invitations(
        self, membership: Membership, ctx: GatewayContext
    ) -> list[InvitationView]:
        """The organization's open invitations (owners and admins)."""
        if not can_manage_members(membership.role):
            _refuse(ONLY_MANAGERS)
        async with ctx.sessions() as session:
            rows = await identity.pending_invitations_of(session, membership.organization_id)
        return [_invitation(r) for r in rows]

    @delete("/{org:str}/invitations/{invitation_id:str}", status_code=204)
    async def cancel_invitation(
        self, invitation_id: str, membership: Membership, ctx: GatewayContext
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


class MyInvitationsController(Controller):
    """Invitations sent to the caller: only the invitee sees, accepts or declines them;
    anyone else gets the same 404 as for an id that does not exist."""

    path = "/v1/me/invitations"

    @get("/")
    async def mine(self, caller: Caller, ctx: GatewayContext) -> list[InvitationView]:
        async with ctx.sessions() as session:
            rows = await identity.pending_invitations_for(session, caller.user_id)
        return [_invitation(r) for r in rows]

    @post("/{invitation_id:str}/accept", status_code=200)
    async def accept(
        self, invitation_id: str, caller: Caller, ctx: GatewayContext
    ) -> InvitationView:
        """Makes the caller a member with the invitation's role."""
        async with ctx.sessions() as session, session.begin():
            row = await _my_open_invitation(session, invitation_id, caller)
            if not await identity.add_member(
                session, row.organization_id, caller.user_id, row.role
            ):
                raise ApiError(
                    ErrorCode.CONFLICT,
                    "already a member of this organization",
                    details={"invitation_id": invitation_id},
                )
            return _invitation(await identity.close_invitation(session, invitation_id, "accepted"))

    @post("/{invitation_id:str}/decline", status_code=200)
    async def decline(
        self, invitation_id: str, caller: Caller, ctx: GatewayContext
    ) -> InvitationView:
        async with ctx.sessions() as session, session.begin():
            await _my_open_invitation(session, invitation_id, caller)
            return _invitation(await identity.close_invitation(session, invitation_id, "declined"))


async def _my_open_invitation(session: Any, invitation_id: str, caller: Caller) -> Any:
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


def _my_organization(row: Any) -> MyOrganization:
    return MyOrganization(id=row.id, name=row.name, personal=row.personal, role=row.role)


def _invitation(row: Any) -> InvitationView:
    return InvitationView(
        id=row.id,
        organization=InvitedOrganization(id=row.organization_id, name=row.organization_name),
        role=row.role,
        handle=row.invitee_handle,
        invited_by=row.inviter_handle,
        status=effective_status(row.status, row.expires_at, row.now),
        created_at=row.created_at,
        expires_at=row.expires_at,
        responded_at=row.responded_at,
    )
