"""Users, API keys, organizations, members and invitations: the gateway's identity routes.

Examples are per field (`Field(examples=...)`): Litestar's OpenAPI renders those, not a
model's `json_schema_extra`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

Role = Literal["owner", "admin", "member"]
InvitationStatus = Literal["pending", "accepted", "declined", "cancelled", "expired"]

# What a caller may send as a handle (any case: it is lowered); the API documents it.
HANDLE_INPUT = r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38}[A-Za-z0-9])?$"
# StringConstraints, not Field(pattern=...): Litestar's OpenAPI keeps only the former's pattern
Handle = Annotated[str, StringConstraints(max_length=40, pattern=HANDLE_INPUT)]

_USER = "usr_3f9a1c2b7d4e"
_ORG = "org_8b2e6f1a9c3d"
_KEY = "key_5d7c2a9e1f4b"
_WHEN = "2026-01-15T10:30:00Z"


class CreateUser(BaseModel):
    """An admin creates a user: a personal organization and a first API key come with it."""

    handle: Handle = Field(examples=["maya"])
    display_name: str | None = Field(default=None, max_length=120, examples=["Maya Lindqvist"])


class UserCreated(BaseModel):
    """The only time the raw `api_key` is shown."""

    user_id: str = Field(examples=[_USER])
    handle: str = Field(examples=["maya"])
    display_name: str = Field(examples=["Maya Lindqvist"])
    organization_id: str = Field(description="The user's personal organization.", examples=[_ORG])
    api_key_id: str = Field(examples=[_KEY])
    api_key: str = Field(examples=["sk_9Jq2vX7mLw4RkT1pZs8Nc3Yd"])


class MyOrganization(BaseModel):
    """An organization the caller belongs to, with their role in it."""

    id: str = Field(examples=[_ORG])
    name: str = Field(examples=["Northlight Records"])
    personal: bool = Field(description="A user's own organization: it has no other members.")
    role: Role = Field(examples=["owner"])


class Me(BaseModel):
    id: str = Field(examples=[_USER])
    handle: str = Field(examples=["maya"])
    display_name: str = Field(examples=["Maya Lindqvist"])
    organizations: list[MyOrganization]


class CreateApiKey(BaseModel):
    name: str = Field(default="api key", min_length=1, max_length=80, examples=["ci uploads"])


class ApiKeyCreated(BaseModel):
    """The only time the raw `api_key` is shown."""

    id: str = Field(examples=[_KEY])
    name: str = Field(examples=["ci uploads"])
    api_key: str = Field(examples=["sk_9Jq2vX7mLw4RkT1pZs8Nc3Yd"])


class ApiKeyView(BaseModel):
    id: str = Field(examples=[_KEY])
    name: str = Field(examples=["ci uploads"])
    key_preview: str = Field(examples=["…c3Yd"])
    created_at: datetime = Field(examples=[_WHEN])
    revoked_at: datetime | None = None


class CreateOrganization(BaseModel):
    name: str = Field(min_length=1, max_length=120, examples=["Northlight Records"])


class AddMember(BaseModel):
    """Invites a user by handle; they become a member once they accept."""

    handle: Handle = Field(examples=["jon"])
    role: Role = Field(default="member", examples=["admin"])


class ChangeRole(BaseModel):
    role: Role = Field(examples=["admin"])


class MemberRole(BaseModel):
    organization_id: str = Field(examples=[_ORG])
    user_id: str = Field(examples=[_USER])
    role: Role = Field(examples=["admin"])


class InvitedOrganization(BaseModel):
    id: str = Field(examples=[_ORG])
    name: str = Field(examples=["Northlight Records"])


class InvitationView(BaseModel):
    id: str = Field(examples=["inv_2c8e4a6f0b1d"])
    organization: InvitedOrganization
    role: Role = Field(examples=["member"])
    handle: str = Field(description="The invited user's handle.", examples=["jon"])
    invited_by: str | None = Field(
        description="Handle of who sent it (None: since left).", examples=["maya"]
    )
    status: InvitationStatus = Field(examples=["pending"])
    created_at: datetime = Field(examples=[_WHEN])
    expires_at: datetime = Field(examples=["2026-01-29T10:30:00Z"])
    responded_at: datetime | None = None
