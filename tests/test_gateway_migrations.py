"""The gateway's migrations on a database that already has rows: revision 0002 finds each
user's personal organization in data written before it knew whose one it was."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy.engine import make_url

from devstack.infra import Infrastructure
from gateway.db.migrate import MIGRATIONS
from servicekit.migrations import alembic_config
from tests.conftest import run_sql


@pytest.fixture
def empty_database(infra: Infrastructure) -> Iterator[str]:
    name = "gw_migration_" + secrets.token_hex(4)
    run_sql(infra.database_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(infra.database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        run_sql(infra.database_url, f'DROP DATABASE "{name}" WITH (FORCE)')


# Rows as revision 0001's code wrote them: `create_user` put the user, their personal org and
# the owner membership in one transaction, so all three have the same `created_at`.
INSERT = {
    "user": "INSERT INTO gateway.users (id, handle, display_name, created_at)"
    " VALUES ($1, $2, $3, timestamptz '2026-01-01 00:00:00+00' + $4 * interval '1 minute')",
    "org": "INSERT INTO gateway.organizations (id, name, personal, created_at)"
    " VALUES ($1, $2, $3, timestamptz '2026-01-01 00:00:00+00' + $4 * interval '1 minute')",
    "member": "INSERT INTO gateway.memberships (organization_id, user_id, role, created_at)"
    " VALUES ($1, $2, $3, timestamptz '2026-01-01 00:00:00+00' + $4 * interval '1 minute')",
}
LEGACY: list[tuple[str, str, str, object, int]] = [
    # ada: her personal org, a label she made later
    ("user", "usr_ada", "ada", "Ada", 1),
    ("org", "org_ada", "Ada", True, 1),
    ("member", "org_ada", "usr_ada", "owner", 1),
    ("org", "org_adalabel", "Ada Label", False, 2),
    ("member", "org_adalabel", "usr_ada", "owner", 2),
    # bo: his personal org, into which he later added ada as an owner (no consent was asked)
    ("user", "usr_bo", "bo", "Bo", 3),
    ("org", "org_bo", "Bo", True, 3),
    ("member", "org_bo", "usr_bo", "owner", 3),
    ("member", "org_bo", "usr_ada", "owner", 4),
    # cy: bo was made owner of cy's personal org and removed cy from it
    ("user", "usr_cy", "cy", "Cy", 5),
    ("org", "org_cy", "Cy", True, 5),
    ("member", "org_cy", "usr_bo", "owner", 6),
    # di: an org flagged personal that was not created with any user, and no personal org
    ("user", "usr_di", "di", "Di", 7),
    ("org", "org_stray", "Stray", True, 8),
    ("member", "org_stray", "usr_di", "owner", 8),
    # ed and fay began in the same microsecond: their owner rows tell whose org is whose
    ("user", "usr_ed", "ed", "Ed", 9),
    ("user", "usr_fay", "fay", "Fay", 9),
    ("org", "org_ed", "Ed", True, 9),
    ("org", "org_fay", "Fay", True, 9),
    ("member", "org_fay", "usr_fay", "owner", 9),
    ("member", "org_ed", "usr_ed", "owner", 9),
]


def insert_legacy_rows(url: str) -> None:
    for kind, *values, minute in LEGACY:
        run_sql(url, INSERT[kind], *values, minute)


def test_0002_marks_each_users_personal_organization(empty_database: str) -> None:
    config = alembic_config(MIGRATIONS, empty_database)
    command.upgrade(config, "0001")
    insert_legacy_rows(empty_database)

    command.upgrade(config, "head")

    personal = {
        row["personal_user_id"]: row["id"]
        for row in run_sql(
            empty_database,
            "SELECT id, personal_user_id FROM gateway.organizations WHERE personal",
        )
    }
    assert {
        user: personal[user] for user in ("usr_ada", "usr_bo", "usr_cy", "usr_ed", "usr_fay")
    } == {
        "usr_ada": "org_ada",
        "usr_bo": "org_bo",
        "usr_cy": "org_cy",
        "usr_ed": "org_ed",
        "usr_fay": "org_fay",
    }
    assert personal["usr_di"].startswith("org_") and personal["usr_di"] != "org_stray"
    assert set(personal) == {"usr_ada", "usr_bo", "usr_cy", "usr_di", "usr_ed", "usr_fay"}
    flags = dict(
        (row["id"], row["personal"])
        for row in run_sql(empty_database, "SELECT id, personal FROM gateway.organizations")
    )
    assert flags["org_stray"] is False and flags["org_adalabel"] is False

    owners = {
        (row["organization_id"], row["user_id"])
        for row in run_sql(
            empty_database,
            "SELECT organization_id, user_id FROM gateway.memberships WHERE role = 'owner'",
        )
    }
    assert ("org_cy", "usr_cy") in owners, "cy owns their personal org again"
    assert (personal["usr_di"], "usr_di") in owners
    assert ("org_bo", "usr_ada") in owners, "memberships are not deleted"

    with pytest.raises(Exception, match="uq_organizations_personal_user"):
        run_sql(
            empty_database,
            "INSERT INTO gateway.organizations (id, name, personal, personal_user_id)"
            " VALUES ('org_second', 'Second', true, 'usr_ada')",
        )
    with pytest.raises(Exception, match="ck_organizations_personal_user"):
        run_sql(
            empty_database,
            "INSERT INTO gateway.organizations (id, name, personal) VALUES ('org_x', 'X', true)",
        )

    command.downgrade(config, "0001")  # and back: the revision is reversible
    command.upgrade(config, "head")
