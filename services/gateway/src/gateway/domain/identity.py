"""Identity rules with no I/O: what a handle may be, what roles can do."""

from __future__ import annotations

import re
from typing import Literal

Role = Literal["owner", "admin", "member"]
ROLES: tuple[Role, ...] = ("owner", "admin", "member")
MANAGING_ROLES: frozenset[str] = frozenset({"owner", "admin"})

_HANDLE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,38}[a-z0-9])?$")
# What a caller may send as a handle (any case: it is lowered); the API documents it.
HANDLE_INPUT = r"^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38}[A-Za-z0-9])?$"


def normalize_handle(raw: str) -> str | None:
    """A handle is 1-40 lowercase url-safe characters; returns None when it cannot be one."""
    handle = raw.strip().lower()
    return handle if _HANDLE.match(handle) else None


def can_manage_members(role: str | None) -> bool:
    return role in MANAGING_ROLES
