"""Personal organizations and invitations: nobody joins an organization without saying yes,
nobody joins a personal one at all, and a user's own things land in their personal one."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import httpx

from contracts.api.identity import (
    ApiKeyCreated,
    ApiKeyView,
    InvitationView,
    Me,
    MemberRole,
    MyOrganization,
    UserCreated,
)
from devstack.suite import Suite
from tests.conftest import Artist, assert_error, run_sql, upload
from tests.contract_bodies import assert_body_is, assert_documented, openapi_of


def members_url(org_id: str) -> str:
    return f"/v1/organizations/{org_id}/members"


def invite(
    api: httpx.Client, inviter: Artist, org_id: str, handle: str, role: str = "member"
) -> httpx.Response:
    return api.post(
        members_url(org_id), headers=inviter.headers, json={"handle": handle, "role": role}
    )


def label_of(api: httpx.Client, owner: Artist, name: str = "Label") -> str:
    created = api.post("/v1/organizations", headers=owner.headers, json={"name": name})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def tracks_status(api: httpx.Client, who: Artist, org_id: str) -> int:
    return api.get(f"/v1/music/{org_id}/tracks", headers=who.headers).status_code


def test_nobody_is_added_to_a_personal_organization(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    ada, bo = new_artist(), new_artist()
    orgs = api.get("/v1/organizations", headers=ada.headers).json()
    assert orgs == [
        {
            "id": ada.organization_id,
            "name": f"Artist {ada.handle}",
            "personal": True,
            "role": "owner",
        }
    ]
    for role in ("member", "admin", "owner"):
        refused = assert_error(
            invite(api, ada, ada.organization_id, bo.handle, role), 409, "CONFLICT"
        )
        assert "personal" in refused["system_message"]
    assert api.get("/v1/me/invitations", headers=bo.headers).json() == []
    assert tracks_status(api, bo, ada.organization_id) == 404

    # its owner stays: neither removed (not even by themselves) nor demoted
    assert_error(
        api.delete(f"{members_url(ada.organization_id)}/{ada.user_id}", headers=ada.headers),
        409,
        "CONFLICT",
    )
    assert_error(
        api.patch(
            f"{members_url(ada.organization_id)}/{ada.user_id}",
            headers=ada.headers,
            json={"role": "admin"},
        ),
        409,
        "CONFLICT",
    )
    label = label_of(api, ada)
    listed = {
        o["id"]: o["personal"] for o in api.get("/v1/organizations", headers=ada.headers).json()
    }
    assert listed == {ada.organization_id: True, label: False}


def test_an_invitation_grants_nothing_until_it_is_accepted(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    boss, bo, stranger = new_artist(), new_artist(), new_artist()
    label = label_of(api, boss, "Night Label")

    sent = invite(api, boss, label, bo.handle.upper(), "admin")
    assert sent.status_code == 201, sent.text
    invitation = sent.json()
    assert invitation["organization"] == {"id": label, "name": "Night Label"}
    assert invitation["role"] == "admin" and invitation["handle"] == bo.handle
    assert invitation["invited_by"] == boss.handle and invitation["status"] == "pending"
    assert invitation["expires_at"] > invitation["created_at"]
    assert invitation["responded_at"] is None

    again = invite(api, boss, label, bo.handle, "member")
    assert again.status_code == 200, "an open invitation is returned as it is"
    assert again.json() == invitation

    assert tracks_status(api, bo, label) == 404, "invited is not a member"
    assert api.get("/v1/me/invitations", headers=bo.headers).json() == [invitation]
    assert api.get(f"/v1/organizations/{label}/invitations", headers=boss.headers).json() == [
        invitation
    ]

    # someone else's invitation is the same 404 as one that does not exist
    for action in ("accept", "decline"):
        theirs = api.post(
            f"/v1/me/invitations/{invitation['id']}/{action}", headers=stranger.headers
        )
        none = api.post(f"/v1/me/invitations/inv_doesnotexist/{action}", headers=stranger.headers)
        assert (
            assert_error(theirs, 404, "RESOURCE_NOT_FOUND")["message"]
            == assert_error(none, 404, "RESOURCE_NOT_FOUND")["message"]
        )
    assert_error(
        api.delete(
            f"/v1/organizations/{label}/invitations/{invitation['id']}", headers=stranger.headers
        ),
        404,
        "RESOURCE_NOT_FOUND",
    )
    assert api.get("/v1/me/invitations", headers=stranger.headers).json() == []

    accepted = api.post(f"/v1/me/invitations/{invitation['id']}/accept", headers=bo.headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and accepted.json()["responded_at"]
    assert tracks_status(api, bo, label) == 200
    mine = {o["id"]: o for o in api.get("/v1/organizations", headers=bo.headers).json()}
    assert mine[label] == {"id": label, "name": "Night Label", "personal": False, "role": "admin"}
    assert api.get("/v1/me/invitations", headers=bo.headers).json() == []
    assert api.get(f"/v1/organizations/{label}/invitations", headers=boss.headers).json() == []

    assert_error(
        api.post(f"/v1/me/invitations/{invitation['id']}/accept", headers=bo.headers),
        409,
        "CONFLICT",
    )
    assert_error(invite(api, boss, label, bo.handle), 409, "CONFLICT")  # a member already


def test_declined_cancelled_or_expired_invitations_cannot_be_accepted(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    boss, bo = new_artist(), new_artist()
    label = label_of(api, boss)

    def invitation() -> dict[str, Any]:
        sent = invite(api, boss, label, bo.handle)
        assert sent.status_code == 201, sent.text
        return dict(sent.json())

    def accept(invitation_id: str) -> httpx.Response:
        return api.post(f"/v1/me/invitations/{invitation_id}/accept", headers=bo.headers)

    declined = invitation()
    answer = api.post(f"/v1/me/invitations/{declined['id']}/decline", headers=bo.headers)
    assert answer.status_code == 200 and answer.json()["status"] == "declined"
    assert assert_error(accept(declined["id"]), 409, "CONFLICT")["details"]["status"] == "declined"

    cancelled = invitation()
    assert cancelled["id"] != declined["id"]
    cancel = api.delete(
        f"/v1/organizations/{label}/invitations/{cancelled['id']}", headers=boss.headers
    )
    assert cancel.status_code == 204, cancel.text
    assert (
        assert_error(accept(cancelled["id"]), 409, "CONFLICT")["details"]["status"] == "cancelled"
    )
    assert_error(
        api.delete(
            f"/v1/organizations/{label}/invitations/{cancelled['id']}", headers=boss.headers
        ),
        409,
        "CONFLICT",
    )

    expired = invitation()
    run_sql(
        suite.database_url("gateway"),
        "update gateway.invitations set expires_at = now() - interval '1 second' where id = $1",
        expired["id"],
    )
    assert api.get("/v1/me/invitations", headers=bo.headers).json() == []
    assert assert_error(accept(expired["id"]), 409, "CONFLICT")["details"]["status"] == "expired"
    assert tracks_status(api, bo, label) == 404, "none of them made bo a member"

    fresh = invitation()  # an expired invitation does not stand in the way of a new one
    assert fresh["id"] != expired["id"]
    assert accept(fresh["id"]).status_code == 200
    assert tracks_status(api, bo, label) == 200


def test_only_owners_and_admins_see_or_cancel_an_organizations_invitations(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    boss, member, guest = new_artist(), new_artist(), new_artist()
    label = label_of(api, boss)
    joined = invite(api, boss, label, member.handle).json()
    api.post(f"/v1/me/invitations/{joined['id']}/accept", headers=member.headers)
    pending = invite(api, boss, label, guest.handle).json()
    assert_error(
        api.get(f"/v1/organizations/{label}/invitations", headers=member.headers), 403, "FORBIDDEN"
    )
    assert_error(
        api.delete(
            f"/v1/organizations/{label}/invitations/{pending['id']}", headers=member.headers
        ),
        403,
        "FORBIDDEN",
    )
    assert_error(invite(api, member, label, guest.handle), 403, "FORBIDDEN")
    assert_error(
        api.get(f"/v1/organizations/{label}/invitations", headers=guest.headers),
        404,
        "RESOURCE_NOT_FOUND",
    )


def test_ref_links_are_filed_under_the_users_personal_organization(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    """Ada owns a label and is a member of another; and (rows from before personal
    organizations took no members) she was added to Bo's personal organization, her own
    membership row being newer: her ref links still go to her personal organization."""
    ada, bo = new_artist(), new_artist()
    own_label = label_of(api, ada, "Ada's label")
    bo_label = label_of(api, bo, "Bo's label")
    invitation = invite(api, bo, bo_label, ada.handle).json()
    assert (
        api.post(f"/v1/me/invitations/{invitation['id']}/accept", headers=ada.headers).status_code
        == 200
    )
    database = suite.database_url("gateway")
    run_sql(
        database,
        "insert into gateway.memberships (organization_id, user_id, role) values ($1, $2, 'member')",
        bo.organization_id,
        ada.user_id,
    )
    run_sql(
        database,
        "with gone as (delete from gateway.memberships where organization_id = $1 and user_id = $2"
        " returning *) insert into gateway.memberships select * from gone",
        ada.organization_id,
        ada.user_id,
    )

    track = upload(api, bo)
    codes = []
    for _ in range(3):
        created = api.post(f"/v1/tracks/{track['id']}/shares", headers=ada.headers)
        assert created.status_code == 201, created.text
        codes.append(created.json()["id"])

    def link_ids(org_id: str, who: Artist) -> set[str]:
        page = api.get(f"/v1/music/{org_id}/shares", headers=who.headers, params={"limit": 100})
        assert page.status_code == 200, page.text
        return {item["id"] for item in page.json()["items"]}

    assert set(codes) <= link_ids(ada.organization_id, ada)
    for org_id, who in ((bo.organization_id, bo), (own_label, ada), (bo_label, bo)):
        assert not set(codes) & link_ids(org_id, who), org_id


def test_identity_bodies_are_the_contract_models(
    api: httpx.Client, new_artist: Callable[[], Artist], suite: Suite
) -> None:
    """Each identity route answers its contract model, field for field, and the OpenAPI
    declares that model for it (a client generated from it reads every field)."""
    boss, bo = new_artist(), new_artist()
    openapi = openapi_of(api)
    handle = "c" + secrets.token_hex(5)
    user = api.post(
        "/v1/users", json={"handle": handle}, headers={"X-API-Key": suite.admin_api_key}
    )
    key = api.post("/v1/me/api-keys", headers=boss.headers, json={"name": "ci"})
    created = api.post("/v1/organizations", headers=boss.headers, json={"name": "Bodies"})
    label = created.json()["id"]
    sent = invite(api, boss, label, bo.handle)
    again = invite(api, boss, label, bo.handle)  # the open invitation, as it is
    open_invitations = api.get(f"/v1/organizations/{label}/invitations", headers=boss.headers)
    mine = api.get("/v1/me/invitations", headers=bo.headers)
    accepted = api.post(f"/v1/me/invitations/{sent.json()['id']}/accept", headers=bo.headers)
    promoted = api.patch(
        f"{members_url(label)}/{bo.user_id}", headers=boss.headers, json={"role": "admin"}
    )
    me = api.get("/v1/me", headers=bo.headers)
    keys = api.get("/v1/me/api-keys", headers=boss.headers)
    organizations = api.get("/v1/organizations", headers=bo.headers)
    org = "/v1/organizations/{org}"
    for response, method, path, model, status, many in (
        (user, "post", "/v1/users", UserCreated, "201", False),
        (key, "post", "/v1/me/api-keys", ApiKeyCreated, "201", False),
        (created, "post", "/v1/organizations", MyOrganization, "201", False),
        (sent, "post", f"{org}/members", InvitationView, "201", False),
        (again, "post", f"{org}/members", InvitationView, "200", False),
        (open_invitations, "get", f"{org}/invitations", InvitationView, "200", True),
        (mine, "get", "/v1/me/invitations", InvitationView, "200", True),
        (
            accepted,
            "post",
            "/v1/me/invitations/{invitation_id}/accept",
            InvitationView,
            "200",
            False,
        ),
        (promoted, "patch", f"{org}/members/{{user_id}}", MemberRole, "200", False),
        (me, "get", "/v1/me", Me, "200", False),
        (keys, "get", "/v1/me/api-keys", ApiKeyView, "200", True),
        (organizations, "get", "/v1/organizations", MyOrganization, "200", True),
    ):
        assert response.status_code == int(status), (path, response.text)
        assert_body_is(model, response.json())
        assert_documented(openapi, method, path, model, status=status, many=many)
    assert [o["role"] for o in me.json()["organizations"] if o["id"] == label] == ["admin"]


def test_a_new_api_keys_body_may_be_left_out_and_the_openapi_says_so(
    api: httpx.Client, new_artist: Callable[[], Artist]
) -> None:
    """A fuzzer sending no body (what a required body forbids) saw 201: the document lied."""
    artist = new_artist()
    unnamed = api.post("/v1/me/api-keys", headers=artist.headers)
    assert unnamed.status_code == 201, unnamed.text
    assert unnamed.json()["name"] == "api key"
    body = openapi_of(api)["paths"]["/v1/me/api-keys"]["post"]["requestBody"]
    assert body.get("required", False) is False, body
    assert_error(
        api.post("/v1/me/api-keys", headers=artist.headers, json={"name": ""}),
        422,
        "VALIDATION_ERROR",
    )
