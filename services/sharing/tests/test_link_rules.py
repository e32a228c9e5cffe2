from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from contracts.text import trim
from sharing.domain.links import (
    clean_grantees,
    holds_track,
    is_live,
    is_owners_own,
    link_expiry,
    may_open_granted,
    owned_by,
)

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


# --- who makes, opens and counts through a link (sharing/domain/links.py) -------------------


def test_an_owner_is_a_signed_in_user_among_the_owners() -> None:
    assert is_owners_own("usr_a", "usr_a")
    assert is_owners_own("usr_a", "usr_b", "usr_a")  # a ref link's sharer or the track's owner
    assert not is_owners_own(None, None)  # nobody signed in owns a link without an owner
    assert not is_owners_own("usr_a", None)


def test_the_signed_in_surface_opens_for_the_owner_and_grantees_only() -> None:
    link = SimpleNamespace(owner_id="usr_o", grantees=["bob"])
    assert may_open_granted("usr_o", None, link)
    assert may_open_granted("usr_b", "bob", link)
    assert not may_open_granted("usr_e", "eve", link)
    assert not may_open_granted(None, None, SimpleNamespace(owner_id="usr_o", grantees=None))


def test_grantees_are_trimmed_lower_case_handles_each_once() -> None:
    assert clean_grantees([" Bob ", "bob", "", "  ", "Ada"]) == ["ada", "bob"]


def test_only_the_owner_in_its_organization_links_an_item() -> None:
    item = SimpleNamespace(organization_id="org_a", owner_id="usr_a")
    assert owned_by(item, "org_a", "usr_a")
    assert not owned_by(item, "org_b", "usr_a")
    assert not owned_by(item, "org_a", "usr_b")
    assert not owned_by(None, "org_a", "usr_a")


def test_a_pack_link_holds_its_packs_tracks_any_other_link_its_own_track() -> None:
    pack_link = SimpleNamespace(kind="pack", track_id=None)
    assert holds_track(pack_link, SimpleNamespace(track_ids=["t1", "t2"]), "t2")
    assert not holds_track(pack_link, SimpleNamespace(track_ids=["t1"]), "t2")
    assert not holds_track(pack_link, None, "t1")  # the pack is gone
    for kind in ("track", "ref"):
        link = SimpleNamespace(kind=kind, track_id="t1")
        assert holds_track(link, None, "t1") and not holds_track(link, None, "t2")
