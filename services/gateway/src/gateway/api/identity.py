"""Users, my API keys, organizations, their members and invitations to join them (the
rules are in service/identity.py)."""

from __future__ import annotations

from dataclasses import dataclass

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
    Me,
    MemberRole,
    MyOrganization,
    UserCreated,
)
from gateway.auth import ADMIN_ONLY, Membership
from gateway.context import GatewayContext
from gateway.db.identity import Caller
from gateway.service import identity


@dataclass
class OptionalBodyOperation(Operation):
    """The operation of a route whose body may be left out (its `data` has a default).
    Litestar marks every request body required, which tells clients and fuzzers that the
    call without one is refused when it is not."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False


class UsersController(Controller):
    path = "/v1/users"

    @post("/", status_code=201, opt=ADMIN_ONLY)  # the key is checked before the body is read
    async def create(self, data: CreateUser, ctx: GatewayContext) -> UserCreated:
        return await identity.register_user(ctx, data.handle, data.display_name)


class MeController(Controller):
    path = "/v1/me"

    @get("/")
    async def me(self, caller: Caller, ctx: GatewayContext) -> Me:
        return await identity.me(ctx, caller)

    @get("/api-keys")
    async def list_keys(self, caller: Caller, ctx: GatewayContext) -> list[ApiKeyView]:
        return await identity.list_api_keys(ctx, caller)

    @post("/api-keys", status_code=201, operation_class=OptionalBodyOperation)
    async def create_key(
        self, caller: Caller, ctx: GatewayContext, data: CreateApiKey | None = None
    ) -> ApiKeyCreated:
        return await identity.create_api_key(ctx, caller.user_id, (data or CreateApiKey()).name)

    @delete("/api-keys/{key_id:str}", status_code=204)
    async def revoke_key(self, key_id: str, caller: Caller, ctx: GatewayContext) -> None:
        await identity.revoke_api_key(ctx, caller, key_id)


class OrganizationsController(Controller):
    path = "/v1/organizations"

    @get("/")
    async def mine(self, caller: Caller, ctx: GatewayContext) -> list[MyOrganization]:
        return await identity.my_organizations(ctx, caller)

    @post("/", status_code=201)
    async def create(
        self, data: CreateOrganization, caller: Caller, ctx: GatewayContext
    ) -> MyOrganization:
        return await identity.create_organization(ctx, caller, data.name)

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
        view, created = await identity.invite(ctx, membership, data)
        return Response(view, status_code=201 if created else 200)

    @patch("/{org:str}/members/{user_id:str}")
    async def change_role(
        self, user_id: str, data: ChangeRole, membership: Membership, ctx: GatewayContext
    ) -> MemberRole:
        """A member's new role (owners and admins; only owners touch the owner role)."""
        return await identity.change_role(ctx, membership, user_id, data)

    @delete("/{org:str}/members/{user_id:str}", status_code=204)
    async def remove_member(
        self, user_id: str, membership: Membership, ctx: GatewayContext
    ) -> None:
        await identity.remove_member(ctx, membership, user_id)

    @get("/{org:str}/invitations")
    async def invitations(
        self, membership: Membership, ctx: GatewayContext
    ) -> list[InvitationView]:
        """The organization's open invitations (owners and admins)."""
        return await identity.organization_invitations(ctx, membership)

    @delete("/{org:str}/invitations/{invitation_id:str}", status_code=204)
    async def cancel_invitation(
        self, invitation_id: str, membership: Membership, ctx: GatewayContext
    ) -> None:
        """Owners and admins, or whoever sent it; 409 once it was answered or expired."""
        await identity.cancel_invitation(ctx, membership, invitation_id)


class MyInvitationsController(Controller):
    """Invitations sent to the caller: only the invitee sees, accepts or declines them;
    anyone else gets the same 404 as for an id that does not exist."""

    path = "/v1/me/invitations"

    @get("/")
    async def mine(self, caller: Caller, ctx: GatewayContext) -> list[InvitationView]:
        return await identity.my_invitations(ctx, caller)

    @post("/{invitation_id:str}/accept", status_code=200)
    async def accept(
        self, invitation_id: str, caller: Caller, ctx: GatewayContext
    ) -> InvitationView:
        """Makes the caller a member with the invitation's role."""
        return await identity.accept_invitation(ctx, caller, invitation_id)

    @post("/{invitation_id:str}/decline", status_code=200)
    async def decline(
        self, invitation_id: str, caller: Caller, ctx: GatewayContext
    ) -> InvitationView:
        return await identity.decline_invitation(ctx, caller, invitation_id)
