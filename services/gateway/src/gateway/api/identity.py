"""Users, my API keys, organizations and their members."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, delete, get, post
from pydantic import BaseModel, Field, StringConstraints

from contracts.errors import ErrorCode
from gateway.auth import ADMIN_ONLY, Membership
from gateway.context import GatewayContext
from gateway.db import identity
from gateway.db.identity import Caller, HandleTaken
from gateway.domain.identity import HANDLE_INPUT, Role, can_manage_members, normalize_handle
from servicekit.errors import ApiError, not_found, validation_error

# StringConstraints, not Field(pattern=...): Litestar's OpenAPI keeps only the former's pattern
Handle = Annotated[str, StringConstraints(max_length=40, pattern=HANDLE_INPUT)]


class CreateUser(BaseModel):
    handle: Handle
    display_name: str | None = Field(default=None, max_length=120)


class CreateApiKey(BaseModel):
    name: str = Field(default="api key", min_length=1, max_length=80)


class CreateOrganization(BaseModel):
    name: str = Field(min_length=1, max_length=120)


class AddMember(BaseModel):
    handle: Handle
    role: Role = "member"


class ApiKeyView(BaseModel):
    id: str
    name: str
    key_preview: str
    created_at: datetime
    revoked_at: datetime | None = None


async def register_user(
    ctx: GatewayContext, raw_handle: str, display_name: str | None
) -> dict[str, Any]:
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
    return {
        "user_id": new.user_id,
        "handle": new.handle,
        "display_name": new.display_name,
        "organization_id": new.organization_id,
        "api_key_id": new.api_key_id,
        "api_key": new.api_key,
    }


async def _keep_an_owner(session: Any, organization_id: str) -> None:
    """Called before an owner leaves or is demoted (rows locked by `role_in(lock=True)`)."""
    if await identity.owner_count(session, organization_id) <= 1:
        raise ApiError(ErrorCode.CONFLICT, "an organization keeps at least one owner")


class UsersController(Controller):
    path = "/v1/users"

    @post("/", status_code=201, opt=ADMIN_ONLY)  # the key is checked before the body is read
    async def create(self, data: CreateUser, ctx: GatewayContext) -> dict[str, Any]:
        return await register_user(ctx, data.handle, data.display_name)


class MeController(Controller):
    path = "/v1/me"

    @get("/")
    async def me(self, caller: Caller, ctx: GatewayContext) -> dict[str, Any]:
        async with ctx.sessions() as session:
            orgs = await identity.organizations_of(session, caller.user_id)
        return {
            "id": caller.user_id,
            "handle": caller.handle,
            "display_name": caller.display_name,
            "organizations": [
                {"id": o.id, "name": o.name, "personal": o.personal, "role": o.role} for o in orgs
            ],
        }

    @get("/api-keys")
    async def list_keys(self, caller: Caller, ctx: GatewayContext) -> list[ApiKeyView]:
        async with ctx.sessions() as session:
            rows = await identity.list_api_keys(session, caller.user_id)
        return [ApiKeyView.model_validate(r, from_attributes=True) for r in rows]

    @post("/api-keys", status_code=201)
    async def create_key(
        self, caller: Caller, ctx: GatewayContext, data: CreateApiKey | None = None
    ) -> dict[str, str]:
        name = (data or CreateApiKey()).name
        async with ctx.sessions() as session, session.begin():
            key_id, raw = await identity.create_api_key(session, caller.user_id, name)
        return {"id": key_id, "name": name, "api_key": raw}

    @delete("/api-keys/{key_id:str}", status_code=204)
    async def revoke_key(self, key_id: str, caller: Caller, ctx: GatewayContext) -> None:
        async with ctx.sessions() as session, session.begin():
            if not await identity.revoke_api_key(session, caller.user_id, key_id):
                raise not_found("api key", key_id=key_id)


class OrganizationsController(Controller):
    path = "/v1/organizations"

    @get("/")
    async def mine(self, caller: Caller, ctx: GatewayContext) -> list[dict[str, Any]]:
        async with ctx.sessions() as session:
            orgs = await identity.organizations_of(session, caller.user_id)
        return [{"id": o.id, "name": o.name, "personal": o.personal, "role": o.role} for o in orgs]

    @post("/", status_code=201)
    async def create(
        self, data: CreateOrganization, caller: Caller, ctx: GatewayContext
    ) -> dict[str, Any]:
        async with ctx.sessions() as session, session.begin():
            org_id = await identity.create_organization(session, data.name.strip(), caller.user_id)
        return {"id": org_id, "name": data.name.strip(), "personal": False, "role": "owner"}

    @post("/{org:str}/members", status_code=201)
    async def add_member(
        self, data: AddMember, membership: Membership, ctx: GatewayContext
    ) -> dict[str, str]:
        if not can_manage_members(membership.role):
            raise ApiError(ErrorCode.FORBIDDEN, "only owners and admins manage members")
        handle = normalize_handle(data.handle)
        async with ctx.sessions() as session, session.begin():
            user = await identity.user_by_handle(session, handle) if handle else None
            if user is None:
                raise not_found("user", handle=data.handle)
            current = await identity.role_in(
                session, membership.organization_id, user.id, lock=True
            )
            if "owner" in (data.role, current) and membership.role != "owner":
                raise ApiError(ErrorCode.FORBIDDEN, "only owners grant or take away the owner role")
            if current == "owner" and data.role != "owner":
                await _keep_an_owner(session, membership.organization_id)
            current = await identity.role_in(
                session, membership.organization_id, user.id, lock=True
            )
            if "owner" in (data.role, current) and membership.role != "owner":
                raise ApiError(ErrorCode.FORBIDDEN, "only owners grant or take away the owner role")
            if current == "owner" and data.role != "owner":
                await _keep_an_owner(session, membership.organization_id)
            await identity.set_member(session, membership.organization_id, user.id, data.role)
        return {
            "organization_id": membership.organization_id,
            "user_id": user.id,
            "role": data.role,
        }

    @delete("/{org:str}/members/{user_id:str}", status_code=204)
    async def remove_member(
        self, user_id: str, membership: Membership, ctx: GatewayContext
    ) -> None:
        if not can_manage_members(membership.role) and user_id != membership.caller.user_id:
            raise ApiError(ErrorCode.FORBIDDEN, "only owners and admins remove other members")
        async with ctx.sessions() as session, session.begin():
            role = await identity.role_in(session, membership.organization_id, user_id, lock=True)
            if role is None:
                raise not_found("member", user_id=user_id)
            if role == "owner":
                if membership.role != "owner" and user_id != membership.caller.user_id:
                    raise ApiError(ErrorCode.FORBIDDEN, "only owners remove owners")
                await _keep_an_owner(session, membership.organization_id)
            await identity.remove_member(session, membership.organization_id, user_id)
