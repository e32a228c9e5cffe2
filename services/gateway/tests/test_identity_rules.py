import pytest

from gateway.auth import presented_key
from gateway.domain.identity import can_manage_members, normalize_handle


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
