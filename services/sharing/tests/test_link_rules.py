from datetime import UTC, datetime, timedelta

from contracts.text import trim
from sharing.domain.links import is_live, link_expiry

NOW = datetime(2026, 6, 28, 10, 30, tzinfo=UTC)


def test_no_expiry_unless_asked() -> None:
    assert link_expiry(NOW, None, 90) is None


def test_expiry_in_days_and_clamped_to_the_maximum() -> None:
    assert link_expiry(NOW, 30, 90) == NOW + timedelta(days=30)
    assert link_expiry(NOW, 91, 90) == NOW + timedelta(days=90)
    assert link_expiry(NOW, 10_000, 90) == NOW + timedelta(days=90)


def test_live_means_not_revoked_and_not_expired() -> None:
    assert is_live(None, None, NOW)
    assert is_live(None, NOW + timedelta(seconds=1), NOW)
    assert not is_live(None, NOW, NOW)
    assert not is_live(NOW - timedelta(days=1), None, NOW)


def test_trim_limits_and_blanks() -> None:
    assert trim("  abc ") == "abc"
    assert trim("x" * 500) == "x" * 120
    assert trim("   ") is None
    assert trim(None) is None
