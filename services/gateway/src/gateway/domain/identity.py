"""Identity rules with no I/O: what a handle may be, what roles can do, how invitations
and personal organizations behave."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from contracts.api.identity import InvitationStatus, Role

ROLES: tuple[Role, ...] = ("owner", "admin", "member")
MANAGING_ROLES: frozenset[str] = frozenset({"owner", "admin"})

_HANDLE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$")


def normalize_handle(raw: str) -> str | None:
    """A handle is 1-40 lowercase url-safe characters; returns None when it cannot be one."""
    handle = raw.strip().lower()
    return handle if _HANDLE.match(handle) else None


def can_manage_members(role: str | None) -> bool:
    return role in MANAGING_ROLES


# --- organizations and invitations ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a membership change is refused: `conflict` (409) or `forbidden` (403)."""

    kind: Literal["conflict", "forbidden"]
    reason: str


PERSONAL_HAS_NO_MEMBERS = Refusal(
    "conflict", "a personal organization has no members besides its owner"
)
KEEP_PERSONAL_OWNER = Refusal("conflict", "the owner of a personal organization stays its owner")
ONLY_MANAGERS = Refusal("forbidden", "only owners and admins manage members")
ONLY_OWNERS_OWN = Refusal("forbidden", "only owners grant or take away the owner role")


def invitation_refusal(
    inviter_role: str | None, personal: bool, role: Role, invitee_role: str | None
) -> Refusal | None:
    """May someone with `inviter_role` invite a person (now `invitee_role`) as `role`?"""
    if not can_manage_members(inviter_role):
        return ONLY_MANAGERS
    if personal:
        return PERSONAL_HAS_NO_MEMBERS
    if role == "owner" and inviter_role != "owner":
        return ONLY_OWNERS_OWN
    if invitee_role is not None:
        return Refusal("conflict", "already a member of this organization")
    return None


def role_change_refusal(
    changer_role: str | None, current: str, new: Role, *, personal_owner: bool
) -> Refusal | None:
    """May someone with `changer_role` move a member from `current` to `new`? (Keeping at
    least one owner is checked against the locked rows, not here.)"""
    if not can_manage_members(changer_role):
        return ONLY_MANAGERS
    if personal_owner and new != "owner":
        return KEEP_PERSONAL_OWNER
    if "owner" in (current, new) and changer_role != "owner":
        return ONLY_OWNERS_OWN
    return None


def removal_refusal(
    remover_role: str, target_role: str, *, self_removal: bool, personal_owner: bool
) -> Refusal | None:
    """May someone with `remover_role` remove a member with `target_role`?"""
    if personal_owner:
        return KEEP_PERSONAL_OWNER
    if not self_removal and not can_manage_members(remover_role):
        return Refusal("forbidden", "only owners and admins remove other members")
    if target_role == "owner" and remover_role != "owner" and not self_removal:
        return Refusal("forbidden", "only owners remove owners")
    return None


def effective_status(status: str, expires_at: datetime, now: datetime) -> InvitationStatus:
    """A pending invitation past its expiry is expired, rewritten or not."""
    if status == "pending" and expires_at <= now:
        return "expired"
    return cast(InvitationStatus, status)


def may_cancel(canceller_role: str, canceller_id: str, invited_by: str | None) -> bool:
    """Owners and admins cancel any of the org's invitations; an inviter cancels their own."""
    return can_manage_members(canceller_role) or canceller_id == invited_by
