"""Fuzzing every operation of the gateway's OpenAPI on the real stack (schemathesis).

Whatever a caller sends, the gateway answers without a 5xx, and every 4xx is the SPEC error
envelope. `ENCORE_FUZZ_EXAMPLES` bounds the examples per operation: a few in `make test`,
many more under `make soak` (the `soak` test below).
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import secrets
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import Case, CheckContext, CheckFunction, Response
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance

from contracts.errors import ErrorBody, ErrorCode, ErrorEnvelope, default_status
from devstack.suite import Suite
from tests.conftest import MEDIA, Artist, upload

EXAMPLES = int(os.environ.get("ENCORE_FUZZ_EXAMPLES", "3"))  # per operation, `make test`
SOAK_EXAMPLES = int(os.environ.get("ENCORE_FUZZ_SOAK_EXAMPLES", "200"))  # `make soak`
# One pytest item runs every operation, so the soak's time grows with its examples.
SOAK_TIMEOUT = 120 + 15 * SOAK_EXAMPLES

# Each call comes from its own address (the test stack trusts one proxy hop), so the
# per-address limits on failed guesses never turn the rest of a run into 429s.
_addresses = (f"172.{16 + n // 65536 % 16}.{n // 256 % 256}.{n % 256}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def openapi(suite: Suite) -> BaseSchema:
    config = SchemathesisConfig.from_dict(
        {
            "generation": {"mode": "all"},
            "phases": {
                # the stateful phase (it follows the links) is its own test below
                "stateful": {"enabled": False},
                # the documented examples are sent by no phase here: schemathesis refuses
                # them alongside `@schema.given()`, which these tests need for real ids
                "examples": {"enabled": False},
            },
        }
    )
    return schemathesis.openapi.from_url(f"{suite.gateway_url}/schema/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("openapi")


def envelope_errors(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every 4xx is the SPEC envelope, strictly: no extra keys, status and code agree."""
    if not 400 <= response.status_code < 500:
        return None
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), (
        f"{response.status_code} is not JSON"
    )
    body = response.json()
    envelope = ErrorEnvelope.model_validate(body, strict=False)
    assert set(body) == {"success", "error"}, body
    assert set(body["error"]) == set(ErrorBody.model_fields), body
    assert envelope.error.status == response.status_code, body
    assert envelope.error.trace_id, body
    assert envelope.error.timestamp.endswith("Z"), body
    assert default_status(envelope.error.code) == response.status_code, body
    if envelope.error.code is ErrorCode.VALIDATION_ERROR:
        assert envelope.error.details.get("fields"), f"a 422 names its fields: {body}"
    assert "/internal" not in response.text, f"an internal path leaked: {body}"
    return True


CHECKS: list[CheckFunction] = [envelope_errors]


@pytest.fixture(scope="module")
def member(api: httpx.Client, suite: Suite) -> Member:
    """A user with real things in its organization, so fuzzed calls reach the services."""
    handle = "fuzz" + secrets.token_hex(4)
    created = api.post(
        "/v1/users",
        json={"handle": handle, "display_name": "Fuzz"},
        headers={"X-API-Key": suite.admin_api_key},
    ).json()
    artist = Artist(created["user_id"], handle, created["organization_id"], created["api_key"])
    track = upload(api, artist)
    org = f"/v1/music/{artist.organization_id}"
    album = api.post(f"{org}/albums", headers=artist.headers, json={"title": "Fuzz"}).json()
    album_track = upload(api, artist, album_id=album["id"])
    # named in bodies only, never in a path: no fuzzed DELETE removes it
    body_track = upload(api, artist, title="In bodies")
    pack = api.post(
        f"{org}/packs",
        headers=artist.headers,
        json={"title": "Fuzz", "track_ids": [body_track["id"]]},
    ).json()
    link = api.post(f"{org}/tracks/{track['id']}/share", headers=artist.headers).json()
    pack_link = api.post(f"{org}/packs/{pack['id']}/share", headers=artist.headers, json={}).json()
    ref = api.post(f"/v1/tracks/{track['id']}/shares", headers=artist.headers).json()
    media = api.get(f"{org}/tracks/{track['id']}/playback-url", headers=artist.headers).json()
    return Member(
        artist,
        {
            "org": [artist.organization_id],
            "track_id": [track["id"]],
            "album_id": [album["id"]],
            "pack_id": [pack["id"]],
            "link_id": [link["id"]],
            "token": [link["token"], media["url"].rsplit("/", 1)[-1]],
            "slug": [pack_link["slug"]],
            "handle": [artist.handle],
            "code": [ref["code"]],
            # not path parameters: the tracks bodies name (finalize names the album's)
            "album_track": [album_track["id"]],
            "body_track": [body_track["id"]],
        },
    )


@dataclass
class Member:
    artist: Artist
    ids: dict[str, list[str]]  # path parameter -> real values this member may use


def not_checked(case: Case[Any]) -> list[CheckFunction]:
    """The checks a case cannot be held to: what makes such a case "valid" is not in the schema."""
    excluded: list[CheckFunction] = []
    if not len(case.operation.body) and case.method in BODY_METHODS:
        # The gateway forwards these bodies to the service that owns them and does not
        # describe them, so "valid by the schema" (no body) is not valid by the API.
        excluded.append(positive_data_acceptance)
    if "Range" in (case.headers or {}):
        # a drawn byte range may lie outside the file: a 422 naming `Range` (right), and the
        # header is not in the schema, so "valid input" cannot know (it failed now and then)
        excluded.append(positive_data_acceptance)
    if {"from", "to"} <= set(case.query or {}):
        # `from` after `to` is a 422 (right): a rule across two parameters, which JSON
        # Schema cannot state.
        excluded.append(positive_data_acceptance)
    return excluded


def send(case: Case[Any], headers: dict[str, str]) -> None:
    case.call_and_validate(
        headers={**headers, "X-Forwarded-For": next(_addresses)},
        additional_checks=CHECKS,
        excluded_checks=not_checked(case),
        timeout=30,
    )


BODY_METHODS = {"POST", "PUT", "PATCH"}
FIELDS = [
    "title",
    "slug",
    "description",
    "track_ids",
    "contributors",
    "status",
    "visibility",
    "expires_in_days",
    "name",
    "access_code",
    "disable_downloads",
    "grantees",
    "channel",
    "role",
    "handle",
    "percentage",
    "user_handle",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


FORM_FIELDS = [
    "file",
    "image",
    "title",
    "visibility",
    "album_id",
    "album",
    "tags",
    "features",
    "description",
    "support_gate",
    "remove_image",
]
AUDIO = [(MEDIA / name).read_bytes() for name in ("tone-3s.mp3",)]
FORM_VALUES = (
    st.text(max_size=30) | st.binary(max_size=64) | st.sampled_from(AUDIO) | JSON.map(json.dumps)
)


def undocumented_body(case: Case[Any], data: st.DataObject, real_ids: list[str]) -> None:
    """Routes the gateway forwards document no body: send JSON shaped like the services' bodies."""
    if len(case.operation.body) or case.method not in BODY_METHODS:
        return
    values = JSON | st.lists(st.sampled_from(real_ids), max_size=3) if real_ids else JSON
    if data.draw(st.booleans(), label="multipart"):  # uploads and track edits are forms
        form = st.dictionaries(st.sampled_from(FORM_FIELDS), FORM_VALUES, max_size=5)
        case.body = cast(Any, data.draw(form))
        case.media_type = "multipart/form-data"
        return
    shaped = st.dictionaries(st.sampled_from(FIELDS), values, max_size=5)
    case.body = cast(Any, data.draw(shaped | JSON))
    case.media_type = "application/json"


# What the public routes read but do not declare: engagement attribution in the query, and
# byte ranges of media.
UNDECLARED_QUERY = ["visitorId", "sessionId", "source", "accessCode"]
RANGES = st.from_regex(r"bytes=[0-9]{0,12}-[0-9]{0,12}", fullmatch=True)


def undeclared(case: Case[Any], data: st.DataObject) -> None:
    extra = data.draw(
        st.dictionaries(st.sampled_from(UNDECLARED_QUERY), st.text(max_size=200), max_size=4),
        label="undeclared query",
    )
    if extra:
        case.query = {**(case.query or {}), **extra}
    if data.draw(st.booleans(), label="range"):
        case.headers["Range"] = data.draw(RANGES, label="range")


IMAGE = (MEDIA / "cover-64.webp").read_bytes()
FILE_PARTS = {"file": AUDIO[0], "image": IMAGE}
JSON_TEXT_FIELDS = {"features": '["Fuzz"]', "tags": '["fuzz"]', "support_gate": "{}"}


def real_data(case: Case[Any], member: Member) -> None:
    """What a schema-valid body cannot know: the member's real ids where it names tracks,
    real media in file parts, JSON in the form fields that carry it, percentages summing
    to 100. Only in bodies drawn as valid (the invalid ones stay as drawn)."""
    body: Any = case.body
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if not isinstance(body, dict) or not len(case.operation.body):
        return
    if isinstance(body.get("track_ids"), list) and body["track_ids"]:
        real = "album_track" if case.path.endswith("/finalize") else "body_track"
        body["track_ids"] = member.ids[real][:1]
    if case.media_type == "multipart/form-data":
        for part, content in FILE_PARTS.items():
            if part in body:
                body[part] = content
        for field, text in JSON_TEXT_FIELDS.items():
            if field in body:
                body[field] = text
        if "album_id" in body:
            body["album_id"] = member.ids["album_id"][0]
        if "image" in body:
            body.pop("remove_image", None)  # one or the other
    contributors = body.get("contributors")
    if isinstance(contributors, list) and contributors:
        share, rest = divmod(10_000, len(contributors))  # hundredths of a percent
        for n, contributor in enumerate(contributors):
            if isinstance(contributor, dict):
                contributor["percentage"] = str((share + (rest if n == 0 else 0)) / 100)


def as_member(case: Case[Any], data: st.DataObject, member: Member, admin_key: str) -> None:
    """A real member's key; its organization always, its real ids half the time."""
    for name in case.path_parameters or {}:
        if name == "org" or (name in member.ids and data.draw(st.booleans(), label=name)):
            case.path_parameters[name] = data.draw(st.sampled_from(member.ids[name]), label=name)
    undocumented_body(case, data, [value for values in member.ids.values() for value in values])
    real_data(case, member)
    undeclared(case, data)
    key = admin_key if case.path == "/v1/users" else member.artist.api_key
    send(case, {"X-API-Key": key})


def anonymous(case: Case[Any], data: st.DataObject) -> None:
    """No key: what the public routes see, and the 401 of every other one."""
    undocumented_body(case, data, [])
    undeclared(case, data)
    send(case, {})


def fuzzing(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,  # no example database written into the work tree
    )


@fuzzing(EXAMPLES)
@schema.given(data=st.data())
@schema.parametrize()
def test_fuzz_as_a_member(
    case: Case[Any], data: st.DataObject, member: Member, suite: Suite
) -> None:
    as_member(case, data, member, suite.admin_api_key)


@fuzzing(EXAMPLES)
@schema.given(data=st.data())
@schema.parametrize()
def test_fuzz_anonymous(case: Case[Any], data: st.DataObject) -> None:
    anonymous(case, data)


@pytest.mark.soak
@pytest.mark.timeout(SOAK_TIMEOUT)
@fuzzing(SOAK_EXAMPLES)
@schema.given(data=st.data())
@schema.parametrize()
def test_soak_fuzz_as_a_member(
    case: Case[Any], data: st.DataObject, member: Member, suite: Suite
) -> None:
    as_member(case, data, member, suite.admin_api_key)


@pytest.mark.soak
@pytest.mark.timeout(SOAK_TIMEOUT)
@fuzzing(SOAK_EXAMPLES)
@schema.given(data=st.data())
@schema.parametrize()
def test_soak_fuzz_anonymous(case: Case[Any], data: st.DataObject) -> None:
    anonymous(case, data)


STATEFUL_EXAMPLES = int(os.environ.get("ENCORE_FUZZ_STATEFUL_EXAMPLES", "10"))  # make test
STATEFUL_SOAK_EXAMPLES = int(os.environ.get("ENCORE_FUZZ_STATEFUL_SOAK_EXAMPLES", "200"))


def test_fuzz_stateful_as_a_member(api: httpx.Client, suite: Suite, member: Member) -> None:
    stateful(api, suite, member, STATEFUL_EXAMPLES)


@pytest.mark.soak
@pytest.mark.timeout(120 + 5 * STATEFUL_SOAK_EXAMPLES)
def test_soak_fuzz_stateful_as_a_member(api: httpx.Client, suite: Suite, member: Member) -> None:
    stateful(api, suite, member, STATEFUL_SOAK_EXAMPLES)


def stateful(api: httpx.Client, suite: Suite, member: Member, examples: int) -> None:
    """Sequences of calls along the OpenAPI `links` (create a track, share it, open the
    link, …), as the member, with every check of the stateless tests on every step. What a
    link hands over (an id, a token, a slug) is a real value, so the calls reach past 404s;
    what a schema cannot know (real audio, the member's own track ids) is filled in as in
    the stateless tests."""
    loaded = schemathesis.openapi.from_url(
        f"{suite.gateway_url}/schema/openapi.json",
        config=SchemathesisConfig.from_dict({"generation": {"mode": "positive"}}),
    )

    org = f"/v1/music/{member.artist.organization_id}"

    def album_track(album_id: str) -> str:
        album = api.get(f"{org}/albums/{album_id}", headers=member.artist.headers)
        if album.status_code == 404:  # deleted by a step: finalizing it is a 404, rightly
            return member.ids["album_track"][0]
        tracks = album.json().get("tracks") if album.status_code == 200 else None
        if tracks:
            return str(tracks[0]["id"])
        return str(upload(api, member.artist, album_id=album_id, ready=False)["id"])

    class Workflow(loaded.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            key = suite.admin_api_key if case.path == "/v1/users" else member.artist.api_key
            for name in case.path_parameters or {}:
                if name == "org":
                    case.path_parameters[name] = member.artist.organization_id
            real_data(case, member)  # real audio in file parts, ids that exist in bodies
            body: Any = case.body
            if isinstance(body, dict) and "album_id" in body and case.media_type:
                # a step may have deleted the member's album (a link from an upload that
                # named it leads to deleting it): name one that exists now
                body["album_id"] = api.post(
                    f"{org}/albums",
                    headers=member.artist.headers,
                    json={"title": "Stateful " + secrets.token_hex(4)},
                ).json()["id"]
            if case.path.endswith("/finalize") and isinstance(body, dict) and body.get("track_ids"):
                # a step may have taken the album's track away: name one it holds now
                body["track_ids"] = [album_track(case.path_parameters["album_id"])]
            return {
                "headers": {"X-API-Key": key, "X-Forwarded-For": next(_addresses)},
                "timeout": 30,
            }

        def validate_response(
            self,
            response: Response,
            case: Case[Any],
            additional_checks: list[CheckFunction] | None = None,
            **kwargs: Any,
        ) -> None:
            case.validate_response(
                response, additional_checks=CHECKS, excluded_checks=not_checked(case)
            )

    steps = 0
    wanted = examples * 3  # calls checked, at least
    statuses: collections.Counter[int] = collections.Counter()

    class Counted(Workflow):
        def step(self, input: Any) -> Any:
            nonlocal steps
            steps += 1
            applied = {name for _, name in input.applied_parameters}
            for name in input.case.path_parameters or {}:
                # what no link handed over: the member's real id where it has one
                if name in member.ids and name not in applied:
                    input.case.path_parameters[name] = member.ids[name][0]
            output = super().step(input)
            statuses[output.response.status_code] += 1
            return output

    runs = 0
    while steps < wanted and runs < 10:
        runs += 1
        try:
            Counted.run(
                settings=settings(
                    max_examples=examples,
                    stateful_step_count=6,
                    # no shrinking: the stack's state has moved on, so a replay draws
                    # differently
                    phases=[Phase.generate],
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    database=None,
                )
            )
        except FlakyStrategyDefinition:
            # Hypothesis saw a rule's bundle differ from an earlier run with the same
            # choices: the server's state, not a finding. Start a fresh run; failures of a
            # check are FailureGroup and are raised as they are.
            continue
    assert steps >= wanted, f"only {steps} calls were made in {runs} runs"
    print(f"stateful: {steps} calls in {runs} runs, statuses {sorted(statuses.items())}")
    succeeded = sum(n for status, n in statuses.items() if status < 300)
    # following the links must get somewhere: most calls answered 404 would mean the
    # links hand over nothing usable
    assert succeeded >= steps // 4, f"only {succeeded} of {steps} calls succeeded: {statuses}"
