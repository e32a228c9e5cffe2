"""The gateway in process: its own app (`create_app`, lifespan included: it starts without
Kafka) on a real Postgres through Litestar's test client, with catalog, sharing, analytics,
Kafka and Redis all absent. Identity lives in the gateway's own schema, so its rules are
tested whole; every route that needs another service answers the SPEC's 503 envelope."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from devstack.processes import free_port
from gateway.app import create_app
from gateway.settings import GatewaySettings

ADMIN_KEY = "test-admin-key"


@pytest.fixture(scope="module")
async def api(service_settings: dict[str, Any]) -> AsyncIterator[AsyncTestClient[Any]]:
    absent = {name: f"http://127.0.0.1:{free_port()}" for name in ("catalog", "sharing")}
    settings = GatewaySettings(
        **service_settings,
        catalog_url=absent["catalog"],
        sharing_url=absent["sharing"],
        analytics_url=f"http://127.0.0.1:{free_port()}",
        admin_api_key=ADMIN_KEY,
        redis_url=None,
        upstream_timeout_seconds=2.0,
        visit_drain_seconds=0.1,
    )
    # one app for the module: starting one takes seconds (the OpenAPI document, templates)
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


def envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    error = body["error"]
    assert (error["code"], error["status"]) == (code, status)
    assert error["trace_id"] and error["timestamp"].endswith("Z")
    return dict(error)


async def new_user(api: AsyncTestClient[Any], handle: str | None = None) -> dict[str, Any]:
    handle = handle or "u" + secrets.token_hex(5)
    created = await api.post("/v1/users", json={"handle": handle}, headers={"X-API-Key": ADMIN_KEY})
    assert created.status_code == 201, created.text
    return dict(created.json())


def key(user: dict[str, Any]) -> dict[str, str]:
    return {"X-API-Key": user["api_key"]}


async def test_only_the_admin_key_creates_users_and_a_handle_is_taken_once(
    api: AsyncTestClient[Any],
) -> None:
    handle = "u" + secrets.token_hex(5)
    envelope(await api.post("/v1/users", json={"handle": handle}), 401, "AUTHENTICATION_REQUIRED")
    user = await new_user(api, handle.upper())
    assert user["handle"] == handle, "handles are stored lower-case"
    envelope(
        await api.post("/v1/users", json={"handle": handle}, headers={"X-API-Key": ADMIN_KEY}),
        409,
        "CONFLICT",
    )
    other = await new_user(api)
    refused = envelope(
        await api.post("/v1/users", json={"handle": "x" + handle}, headers=key(other)),
        401,
        "AUTHENTICATION_REQUIRED",
    )
    assert "admin key" in refused["system_message"]


async def test_a_key_identifies_its_user_until_it_is_revoked(api: AsyncTestClient[Any]) -> None:
    user = await new_user(api)
    me = await api.get("/v1/me", headers=key(user))
    assert me.status_code == 200, me.text
    assert me.json()["handle"] == user["handle"]
    assert [o["id"] for o in me.json()["organizations"]] == [user["organization_id"]]
    bearer = await api.get("/v1/me", headers={"Authorization": f"Bearer {user['api_key']}"})
    assert bearer.status_code == 200

    second = await api.post("/v1/me/api-keys", json={"name": "ci"}, headers=key(user))
    assert second.status_code == 201, second.text
    revoked = await api.delete(f"/v1/me/api-keys/{user['api_key_id']}", headers=key(user))
    assert revoked.status_code == 204
    envelope(await api.get("/v1/me", headers=key(user)), 401, "AUTHENTICATION_REQUIRED")
    still = await api.get("/v1/me", headers={"X-API-Key": second.json()["api_key"]})
    assert still.status_code == 200
    envelope(
        await api.get("/v1/me", headers={"X-API-Key": "sk_nope"}), 401, "AUTHENTICATION_REQUIRED"
    )


async def test_membership_roles_through_invitations(api: AsyncTestClient[Any]) -> None:
    owner, member, outsider = await new_user(api), await new_user(api), await new_user(api)
    org = await api.post("/v1/organizations", json={"name": "Northlight"}, headers=key(owner))
    assert org.status_code == 201, org.text
    org_id = org.json()["id"]
    members = f"/v1/organizations/{org_id}/members"

    # to an outsider the organization does not exist
    envelope(
        await api.post(members, json={"handle": member["handle"]}, headers=key(outsider)),
        404,
        "RESOURCE_NOT_FOUND",
    )
    sent = await api.post(members, json={"handle": member["handle"]}, headers=key(owner))
    assert sent.status_code == 201, sent.text
    again = await api.post(members, json={"handle": member["handle"]}, headers=key(owner))
    assert again.status_code == 200 and again.json()["id"] == sent.json()["id"]
    accepted = await api.post(f"/v1/me/invitations/{sent.json()['id']}/accept", headers=key(member))
    assert accepted.status_code == 200, accepted.text

    # a plain member manages nobody; the last owner cannot be demoted
    envelope(
        await api.post(members, json={"handle": outsider["handle"]}, headers=key(member)),
        403,
        "FORBIDDEN",
    )
    demote = await api.patch(
        f"{members}/{owner['user_id']}", json={"role": "member"}, headers=key(owner)
    )
    envelope(demote, 409, "CONFLICT")
    # nobody is invited into a personal organization
    personal = f"/v1/organizations/{owner['organization_id']}/members"
    envelope(
        await api.post(personal, json={"handle": member["handle"]}, headers=key(owner)),
        409,
        "CONFLICT",
    )


async def test_routes_that_need_another_service_answer_503_with_the_envelope(
    api: AsyncTestClient[Any],
) -> None:
    user = await new_user(api)
    org = user["organization_id"]
    for method, path in [
        ("GET", f"/v1/music/{org}/tracks"),
        ("GET", f"/v1/music/{org}/shares"),
        ("GET", f"/v1/music/{org}/albums"),
        ("GET", "/v1/public/track-links/tok_" + secrets.token_hex(8)),
    ]:
        response = await api.request(method, path, headers=key(user))
        envelope(response, 503, "SERVICE_UNAVAILABLE")


async def test_without_a_key_nothing_reaches_an_upstream(api: AsyncTestClient[Any]) -> None:
    user = await new_user(api)
    # 401 before any upstream is called: the absent services would have made it a 503
    envelope(
        await api.get(f"/v1/music/{user['organization_id']}/tracks"),
        401,
        "AUTHENTICATION_REQUIRED",
    )
    # nor with a key from outside the organization, to which it does not exist
    other = await new_user(api)
    envelope(
        await api.get(f"/v1/music/{user['organization_id']}/tracks", headers=key(other)),
        404,
        "RESOURCE_NOT_FOUND",
    )


async def test_a_bad_body_is_a_422_naming_its_field(api: AsyncTestClient[Any]) -> None:
    error = envelope(
        await api.post("/v1/users", json={"handle": "-bad-"}, headers={"X-API-Key": ADMIN_KEY}),
        422,
        "VALIDATION_ERROR",
    )
    assert "handle" in error["details"]["fields"]
