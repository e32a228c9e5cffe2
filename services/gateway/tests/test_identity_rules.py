from datetime import UTC, datetime, timedelta

import pytest

from gateway.auth import presented_key
from gateway.domain.identity import (
    KEEP_PERSONAL_OWNER,
    ONLY_MANAGERS,
    ONLY_OWNERS_OWN,
    can_manage_members,
    effective_status,
    invitation_refusal,
    may_cancel,
    normalize_handle,
    removal_refusal,
    role_change_refusal,
)


@pytest.mark.parametrize(("raw", "expected"), [("Ada", "ada"), (" dj-x_1 ", "dj-x_1"), ("a", "a")])
def test_valid_handles_are_normalised(raw: str, expected: str) -> None:
    assert normalize_handle(raw) == expected


@pytest.mark.parametrize("raw", ["", "-ada", "ada-", "a b", "ada!", "x" * 41, "émile"])
def test_invalid_handles_are_refused(raw: str) -> None:
    assert normalize_handle(raw) is None


def test_only_owners_and_admins_manage_members() -> None:
    assert can_manage_members("owner") and can_manage_members("admin")
    assert not can_manage_members("member") and not can_manage_members(None)


class _Req:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers


def test_key_is_read_from_x_api_key_or_bearer() -> None:
    assert presented_key(_Req({"x-api-key": "sk_1"})) == "sk_1"  # type: ignore[arg-type]
    assert presented_key(_Req({"authorization": "Bearer sk_2"})) == "sk_2"  # type: ignore[arg-type]
    assert presented_key(_Req({"authorization": "Basic xyz"})) is None  # type: ignore[arg-type]
    assert presented_key(_Req({})) is None  # type: ignore[arg-type]


def test_nobody_is_invited_into_a_personal_organization() -> None:
    for role in ("member", "admin", "owner"):
        refusal = invitation_refusal("owner", True, role, None)
        assert refusal is not None and refusal.kind == "conflict"


def test_who_may_invite_whom() -> None:
    assert invitation_refusal("owner", False, "owner", None) is None
    assert invitation_refusal("admin", False, "admin", None) is None
    assert invitation_refusal("admin", False, "owner", None) == ONLY_OWNERS_OWN
    assert invitation_refusal("member", False, "member", None) == ONLY_MANAGERS
    already = invitation_refusal("owner", False, "member", "member")
    assert already is not None and already.kind == "conflict"


def test_a_personal_organizations_owner_stays_its_owner() -> None:
    assert role_change_refusal("owner", "owner", "admin", personal_owner=True) == (
        KEEP_PERSONAL_OWNER
    )
    assert role_change_refusal("owner", "owner", "owner", personal_owner=True) is None
    assert (
        removal_refusal("owner", "owner", self_removal=True, personal_owner=True)
        == KEEP_PERSONAL_OWNER
    )
    assert removal_refusal("owner", "owner", self_removal=True, personal_owner=False) is None
    assert removal_refusal("admin", "owner", self_removal=False, personal_owner=False) is not None
    assert removal_refusal("member", "member", self_removal=True, personal_owner=False) is None


def test_a_pending_invitation_past_its_expiry_is_expired() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert effective_status("pending", now + timedelta(seconds=1), now) == "pending"
    assert effective_status("pending", now, now) == "expired"
    assert effective_status("declined", now - timedelta(days=1), now) == "declined"


def test_inviters_and_managers_cancel() -> None:
    assert may_cancel("admin", "usr_a", "usr_b")
    assert may_cancel("member", "usr_b", "usr_b"), "the inviter, though no longer an admin"
    assert not may_cancel("member", "usr_a", "usr_b")
