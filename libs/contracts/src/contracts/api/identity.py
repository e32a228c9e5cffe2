"""Users, API keys, organizations, members and invitations: the gateway's identity routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Role = Literal["owner", "admin", "member"]
InvitationStatus = Literal["pending", "accepted", "declined", "cancelled", "expired"]

# What a caller may send as a handle (any case: it is lowered); the API documents it.
HANDLE_INPUT = r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38}[A-Za-z0-9])?$"
# StringConstraints, not Field(pattern=...): Litestar's OpenAPI keeps only the former's pattern
Handle = Annotated[str, StringConstraints(max_length=40, pattern=HANDLE_INPUT)]

_ID = "usr_3f9a1c2b7d4e"
_ORG = "org_8b2e6f1a9c3d"
_WHEN = "2026-01-15T10:30:00Z"


class CreateUser(BaseModel):
    """An admin creates a user: a personal organization and a first API key come with it."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"handle": "maya", "display_name": "Maya Lindqvist"}]}
    )

    handle: Handle
    display_name: str | None = Field(default=None, max_length=120)


class UserCreated(BaseModel):
    """The only time the raw `api_key` is shown."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "user_id": _ID,
                    "handle": "maya",
                    "display_name": "Maya Lindqvist",
                    "organization_id": _ORG,
                    "api_key_id": "key_5d7c2a9e1f4b",
                    "api_key": "sk_9Jq2vX7mLw4RkT1pZs8Nc3Yd",
                }
            ]
        }
    )

    user_id: str
    handle: str
    display_name: str
    organization_id: str = Field(description="The user's personal organization.")
    api_key_id: str
    api_key: str


class MyOrganization(BaseModel):
    """An organization the caller belongs to, with their role in it."""

    id: str
    name: str
    personal: bool
    role: Role


class Me(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "handle": "maya",
                    "display_name": "Maya Lindqvist",
                    "organizations": [
                        {"id": _ORG, "name": "maya", "personal": True, "role": "owner"}
                    ],
                }
            ]
        }
    )

    id: str
    handle: str
    display_name: str
    organizations: list[MyOrganization]


class CreateApiKey(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "ci uploads"}]})

    name: str = Field(default="api key", min_length=1, max_length=80)


class ApiKeyCreated(BaseModel):
    """The only time the raw `api_key` is shown."""

    id: str
    name: str
    api_key: str


class ApiKeyView(BaseModel):
    id: str
    name: str
    key_preview: str
    created_at: datetime
    revoked_at: datetime | None = None


class CreateOrganization(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Northlight Records"}]})

    name: str = Field(min_length=1, max_length=120)


class AddMember(BaseModel):
    """Invites a user by handle; they become a member once they accept."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"handle": "jon", "role": "admin"}]})

    handle: Handle
    role: Role = "member"


class ChangeRole(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"role": "admin"}]})

    role: Role


class MemberRole(BaseModel):
    organization_id: str
    user_id: str
    role: Role


class InvitedOrganization(BaseModel):
    id: str
    name: str


class InvitationView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "inv_2c8e4a6f0b1d",
                    "organization": {"id": _ORG, "name": "Northlight Records"},
                    "role": "member",
                    "handle": "jon",
                    "invited_by": "maya",
                    "status": "pending",
                    "created_at": _WHEN,
                    "expires_at": "2026-01-29T10:30:00Z",
                    "responded_at": None,
                }
            ]
        }
    )

    id: str
    organization: InvitedOrganization
    role: Role
    handle: str = Field(description="The invited user's handle.")
    invited_by: str | None = Field(description="Handle of who sent it (None: since left).")
    status: InvitationStatus
    created_at: datetime
    expires_at: datetime
    responded_at: datetime | None = None
