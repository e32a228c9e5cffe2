"""Sharing in process: its own app (`create_app`) on a real Postgres through an ASGI test
client, its catalog consumer through FastStream's `TestKafkaBroker`; no other service, no
Kafka. Catalog is absent, so what sharing may link to comes only from its replica, which
the tests fill as catalog would, by publishing `catalog.lifecycle` events."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts import topics
from contracts.events import PackChanged, TrackChanged, TrackSnapshot, wrap
from devstack.processes import free_port
from servicekit.internal import ENGAGEMENT_HEADER, NOT_A_VISIT
from servicekit.querycount import STATEMENTS_HEADER as STATEMENTS
from sharing.app import create_app
from sharing.db import replica
from sharing.db.models import outbox
from sharing.events.catalog_consumer import register_catalog_consumer
from sharing.settings import SharingSettings

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def settings(service_settings: dict[str, Any]) -> SharingSettings:
    # catalog on a closed port: a read-through to it is an outage
    return SharingSettings(**service_settings, catalog_url=f"http://127.0.0.1:{free_port()}")


@pytest.fixture
async def api(settings: SharingSettings, in_process: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with in_process(create_app(settings)) as client:
        yield client


@pytest.fixture
async def catalog_events(
    settings: SharingSettings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[KafkaBroker]:
    """Sharing's catalog consumer on an in-memory broker, writing to the real replica."""
    broker = KafkaBroker(settings.kafka_bootstrap)
    register_catalog_consumer(broker, settings, sessions)
    async with TestKafkaBroker(broker) as test_broker:
        yield test_broker


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def snapshot(owner: str, org: str, **changes: Any) -> TrackSnapshot:
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "track_id": new_id("trk"),
        "organization_id": org,
        "owner_id": owner,
        "owner_handle": "ada",
        "title": "Tone",
        "visibility": "public",
        "content_type": "audio/mpeg",
        "size_bytes": 1000,
        "duration_seconds": 3.0,
        "created_at": now,
        "updated_at": now,
        "processing_state": "ready",
    }
    return TrackSnapshot(**{**fields, **changes})


async def publish(broker: KafkaBroker, payload: Any, event_id: uuid.UUID | None = None) -> None:
    envelope = wrap(payload, producer="catalog", event_id=event_id)
    await broker.publish(envelope.model_dump_json().encode(), topics.CATALOG_LIFECYCLE)


async def replica_track(
    sessions: async_sessionmaker[AsyncSession], track_id: str
) -> TrackSnapshot | None:
    async with sessions() as session:
        found = await replica.load_tracks(session, [track_id])
    return found[track_id][0] if track_id in found else None


# --- the catalog consumer ----------------------------------------------------------------


async def test_a_track_event_fills_the_replica_and_a_redelivery_changes_nothing(
    catalog_events: KafkaBroker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    track = snapshot("usr_a", "org_a")
    event_id = uuid.uuid4()
    await publish(catalog_events, TrackChanged(action="created", track=track), event_id)
    assert await replica_track(sessions, track.track_id) == track

    renamed = track.model_copy(
        update={"title": "Renamed", "updated_at": track.updated_at + timedelta(seconds=1)}
    )
    await publish(catalog_events, TrackChanged(action="updated", track=renamed))
    # the first event again (a redelivery), then an older state arriving late
    await publish(catalog_events, TrackChanged(action="created", track=track), event_id)
    assert await replica_track(sessions, track.track_id) == renamed


async def test_an_older_pack_version_does_not_undo_a_newer_one(
    catalog_events: KafkaBroker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    pack_id, at = new_id("pck"), datetime.now(UTC)

    def pack(title: str, updated_at: datetime) -> PackChanged:
        return PackChanged(
            action="updated",
            pack_id=pack_id,
            organization_id="org_a",
            owner_id="usr_a",
            title=title,
            track_ids=[],
            updated_at=updated_at,
        )

    await publish(catalog_events, pack("Newer", at + timedelta(seconds=5)))
    await publish(catalog_events, pack("Older", at))
    async with sessions() as session:
        row = await replica.load_pack(session, pack_id)
    assert row is not None and row.title == "Newer"


async def test_a_deleted_pack_stays_deleted_and_a_version_less_event_undoes_nothing(
    catalog_events: KafkaBroker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Idempotent by version (issue 13, point 3): a redelivered or version-less pack event
    after a newer one, or any update after the delete, leaves the replica as it was."""
    pack_id, at = new_id("pck"), datetime.now(UTC)

    def pack(action: str, title: str, updated_at: datetime | None) -> PackChanged:
        return PackChanged(
            action=action,
            pack_id=pack_id,
            organization_id="org_a",
            owner_id="usr_a",
            title=title,
            track_ids=["trk_a"],
            updated_at=updated_at,
        )

    async def state() -> tuple[str, list[str], bool]:
        async with sessions() as session:
            row = await replica.load_pack(session, pack_id)
        assert row is not None
        return row.title, list(row.track_ids), row.deleted_at is not None

    created = uuid.uuid4()
    await publish(catalog_events, pack("created", "First", at), created)
    await publish(catalog_events, pack("created", "First", at), created)  # redelivered
    await publish(catalog_events, pack("updated", "Unversioned", None))
    assert await state() == ("First", ["trk_a"], False)
    await publish(catalog_events, pack("deleted", "First", at + timedelta(seconds=1)))
    await publish(catalog_events, pack("updated", "Later", at + timedelta(seconds=2)))
    assert await state() == ("First", [], True)


async def test_a_poison_message_goes_to_the_dead_letter_topic_with_its_reason(
    catalog_events: KafkaBroker,
) -> None:
    dead: list[tuple[bytes, dict[str, Any]]] = []

    @catalog_events.subscriber(topics.dead_letter_topic(topics.CATALOG_LIFECYCLE))
    async def capture(message: KafkaMessage) -> None:
        dead.append((message.body, dict(message.headers)))

    await catalog_events.start()  # the subscriber added after the start
    await catalog_events.publish(b"{not json", topics.CATALOG_LIFECYCLE)
    assert len(dead) == 1
    body, headers = dead[0]
    assert body == b"{not json"
    assert headers["dlq-original-topic"] == topics.CATALOG_LIFECYCLE
    assert headers["dlq-reason"]


# --- track links -------------------------------------------------------------------------


async def test_track_link_create_share_and_revoke(
    api: httpx.AsyncClient,
    catalog_events: KafkaBroker,
    acting_as: Headers,
    outbox_events: Any,
) -> None:
    owner, org = new_id("usr"), new_id("org")
    track = snapshot(owner, org)
    await publish(catalog_events, TrackChanged(action="created", track=track))

    created = await api.post(
        f"/internal/orgs/{org}/tracks/{track.track_id}/share",
        json={"expires_in_days": 7},
        headers=acting_as(owner),
    )
    assert created.status_code == 201, created.text
    link = created.json()
    assert link["url"].endswith(f"/t/{link['token']}") and link["expires_at"]
    lifecycle = await outbox_events(outbox, "share.lifecycle", link_id=link["id"])
    assert [e["payload"]["action"] for e in lifecycle] == ["created"]

    shared = await api.post(
        f"/internal/track-links/{link['token']}/share-events",
        json={"channel": "email"},
        headers=acting_as(),
    )
    assert shared.status_code == 200, shared.text
    recorded = await outbox_events(outbox, "share.recorded", link_id=link["id"])
    assert [e["payload"]["channel"] for e in recorded] == ["email"]

    someone_else = await api.delete(
        f"/internal/orgs/{org}/shares/{link['id']}", headers=acting_as(new_id("usr"))
    )
    assert someone_else.status_code == 404
    revoked = await api.delete(
        f"/internal/orgs/{org}/shares/{link['id']}", headers=acting_as(owner)
    )
    assert revoked.status_code == 204
    lifecycle = await outbox_events(outbox, "share.lifecycle", link_id=link["id"])
    assert [e["payload"]["action"] for e in lifecycle] == ["created", "revoked"]

    gone = await api.post(
        f"/internal/track-links/{link['token']}/share-events",
        json={"channel": "email"},
        headers=acting_as(),
    )
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "TRACK_LINK_UNAVAILABLE"


async def test_each_visit_of_a_batch_continues_the_trace_of_its_open(
    api: httpx.AsyncClient,
    catalog_events: KafkaBroker,
    acting_as: Headers,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The gateway sends queued visits in batches: each event's outbox row keeps the
    traceparent of the open it came from (not the batch call's), which the relay sends on."""
    owner, org = new_id("usr"), new_id("org")
    track = snapshot(owner, org)
    await publish(catalog_events, TrackChanged(action="created", track=track))
    created = await api.post(
        f"/internal/orgs/{org}/tracks/{track.track_id}/share", json={}, headers=acting_as(owner)
    )
    link = created.json()
    opens = [f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-0{n}" for n in (0, 1)]
    visits = [
        {
            "event_id": str(uuid.uuid4()),
            "occurred_at": datetime.now(UTC).isoformat(),
            "link_id": link["id"],
            "traceparent": parent,
        }
        for parent in opens
    ]
    batch_call = f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"
    recorded = await api.post(
        "/internal/track-link-opens/visits",
        json={"visits": visits},
        headers={**acting_as(), "traceparent": batch_call},
    )
    assert recorded.json() == {"recorded": 2}, recorded.text
    async with sessions() as session:
        rows = (
            await session.execute(
                select(outbox.c.traceparent, outbox.c.value).where(
                    outbox.c.event_id.in_([uuid.UUID(v["event_id"]) for v in visits])
                )
            )
        ).all()
    stored = {row.traceparent: json.loads(row.value)["trace_id"] for row in rows}
    assert stored == {parent: parent[3:35] for parent in opens}


async def test_only_the_owner_links_a_public_track(
    api: httpx.AsyncClient, catalog_events: KafkaBroker, acting_as: Headers
) -> None:
    owner, org = new_id("usr"), new_id("org")
    private = snapshot(owner, org, visibility="private")
    public = snapshot(owner, org)
    for track in (private, public):
        await publish(catalog_events, TrackChanged(action="created", track=track))

    def share(track: TrackSnapshot, user: str) -> Any:
        return api.post(
            f"/internal/orgs/{org}/tracks/{track.track_id}/share", headers=acting_as(user)
        )

    refused = await share(private, owner)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "CONFLICT"
    stranger = await share(public, new_id("usr"))
    assert stranger.status_code == 404
    anonymous = await api.post(
        f"/internal/orgs/{org}/tracks/{public.track_id}/share", headers=acting_as()
    )
    assert anonymous.status_code == 401


async def test_a_call_without_the_internal_credential_is_refused(
    api: httpx.AsyncClient,
) -> None:
    response = await api.get(f"/internal/orgs/{new_id('org')}/shares")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTHENTICATION_REQUIRED"


async def test_a_track_unknown_to_the_replica_asks_catalog_and_an_outage_is_a_503(
    api: httpx.AsyncClient, acting_as: Headers
) -> None:
    owner, org = new_id("usr"), new_id("org")
    response = await api.post(
        f"/internal/orgs/{org}/tracks/{new_id('trk')}/share", headers=acting_as(owner)
    )
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


async def test_the_org_list_filters_by_kind_track_and_pack_in_two_statements(
    api: httpx.AsyncClient, catalog_events: KafkaBroker, acting_as: Headers
) -> None:
    """Sharing filters its org list in SQL: only the matching links, newest first, paged,
    `total` counting the matching ones, and two statements whatever the filter and however
    many links match or not."""
    owner, org = new_id("usr"), new_id("org")
    first, second = snapshot(owner, org), snapshot(owner, org)
    for track in (first, second):
        await publish(catalog_events, TrackChanged(action="created", track=track))
    pack_id = new_id("pck")
    await publish(
        catalog_events,
        PackChanged(
            action="created",
            pack_id=pack_id,
            organization_id=org,
            owner_id=owner,
            title="Demo pack",
            track_ids=[first.track_id],
            updated_at=datetime.now(UTC),
        ),
    )

    async def share(target: str) -> str:
        made = await api.post(f"/internal/orgs/{org}/{target}/share", headers=acting_as(owner))
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    made: list[tuple[str, str]] = []  # (target, link id), oldest first
    for target in ["first"] * 3 + ["pack", "second", "pack", "second", "first"]:
        path = {
            "first": f"tracks/{first.track_id}",
            "second": f"tracks/{second.track_id}",
            "pack": f"packs/{pack_id}",
        }[target]
        made.append((target, await share(path)))
    newest_first = [link for _, link in reversed(made)]

    def of(*targets: str) -> list[str]:
        return [link for target, link in reversed(made) if target in targets]

    async def listed(**params: Any) -> tuple[list[str], int, str]:
        response = await api.get(
            f"/internal/orgs/{org}/shares", params=params, headers=acting_as(owner)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        return [i["id"] for i in page["items"]], page["total"], response.headers[STATEMENTS]

    everything = await listed(limit=100)
    assert everything == (newest_first, 8, "2")  # the count and the page
    assert await listed(kind="pack") == (of("pack"), 2, everything[2])
    assert await listed(kind="track") == (of("first", "second"), 6, everything[2])
    assert await listed(track_id=first.track_id) == (of("first"), 4, everything[2])
    assert await listed(pack_id=pack_id) == (of("pack"), 2, everything[2])
    assert await listed(kind="pack", track_id=first.track_id) == ([], 0, everything[2])
    assert await listed(kind="split_sheet") == ([], 0, everything[2])
    # a filtered page: `total` counts the matching links, the page is taken from them only
    paged = await listed(kind="track", limit=2, offset=3)
    assert paged == (of("first", "second")[3:5], 6, everything[2])
    # another org's list does not see this org's links through a filter
    stranger = await api.get(
        f"/internal/orgs/{new_id('org')}/shares",
        params={"track_id": first.track_id},
        headers=acting_as(owner),
    )
    assert stranger.json()["items"] == [] and stranger.json()["total"] == 0

    for params in ({"kind": "album"}, {"track_id": ""}, {"pack_id": "p" * 201}):
        refused = await api.get(
            f"/internal/orgs/{org}/shares", params=params, headers=acting_as(owner)
        )
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "VALIDATION_ERROR" and set(error["details"]["fields"]) == set(
            params
        ), error


# --- pack links: access codes and grants -------------------------------------------------


async def new_pack_link(
    api: httpx.AsyncClient,
    catalog_events: KafkaBroker,
    acting_as: Headers,
    **options: Any,
) -> tuple[str, str, str, TrackSnapshot]:
    owner, org = new_id("usr"), new_id("org")
    track = snapshot(owner, org)
    await publish(catalog_events, TrackChanged(action="created", track=track))
    pack_id = new_id("pck")
    await publish(
        catalog_events,
        PackChanged(
            action="created",
            pack_id=pack_id,
            organization_id=org,
            owner_id=owner,
            title="Demo pack",
            track_ids=[track.track_id],
            updated_at=datetime.now(UTC),
        ),
    )
    created = await api.post(
        f"/internal/orgs/{org}/packs/{pack_id}/share", json=options, headers=acting_as(owner)
    )
    assert created.status_code == 201, created.text
    return created.json()["slug"], created.json()["id"], owner, track


async def test_an_access_code_gates_a_pack_link_but_not_its_owner_whose_views_do_not_count(
    api: httpx.AsyncClient,
    catalog_events: KafkaBroker,
    acting_as: Headers,
    outbox_events: Any,
) -> None:
    code = secrets.token_hex(4)
    slug, link_id, owner, track = await new_pack_link(
        api, catalog_events, acting_as, access_code=code
    )
    path = f"/internal/pack-links/{slug}"

    missing = await api.get(path, headers=acting_as())
    assert missing.status_code == 403
    assert missing.json()["error"]["code"] == "ACCESS_CODE_REQUIRED"
    wrong = await api.get(path, params={"accessCode": code + "x"}, headers=acting_as())
    assert wrong.json()["error"]["code"] == "ACCESS_CODE_INVALID"
    assert await outbox_events(outbox, "pack.viewed", link_id=link_id) == []

    opened = await api.get(path, params={"accessCode": code}, headers=acting_as())
    assert opened.status_code == 200, opened.text
    assert [t["id"] for t in opened.json()["pack"]["tracks"]] == [track.track_id]
    as_owner = await api.get(path, headers=acting_as(owner))
    assert as_owner.status_code == 200
    # the visitor's view is recorded, the owner's own is not
    views = await outbox_events(outbox, "pack.viewed", link_id=link_id)
    assert [v["payload"]["visitor"]["user_id"] for v in views] == [None]


async def test_a_preview_fetch_is_served_without_counting_a_view(
    api: httpx.AsyncClient,
    catalog_events: KafkaBroker,
    acting_as: Headers,
    outbox_events: Any,
) -> None:
    """The gateway's verdict (a preview fetcher): served, recorded as a preview only."""
    slug, link_id, _, _ = await new_pack_link(api, catalog_events, acting_as)
    response = await api.get(
        f"/internal/pack-links/{slug}",
        headers={**acting_as(), ENGAGEMENT_HEADER: "preview:preview_fetcher"},
    )
    assert response.status_code == 200
    assert await outbox_events(outbox, "pack.viewed", link_id=link_id) == []
    previewed = await outbox_events(outbox, "share.previewed", link_id=link_id)
    assert [event["payload"]["reason"] for event in previewed] == ["preview_fetcher"]


async def test_a_read_that_is_no_new_visit_records_nothing(
    api: httpx.AsyncClient,
    catalog_events: KafkaBroker,
    acting_as: Headers,
    outbox_events: Any,
) -> None:
    """A posted access code (answered by a redirect to the page that counts) is `none`."""
    slug, link_id, _, _ = await new_pack_link(api, catalog_events, acting_as)
    response = await api.get(
        f"/internal/pack-links/{slug}", headers={**acting_as(), ENGAGEMENT_HEADER: NOT_A_VISIT}
    )
    assert response.status_code == 200
    for kind in ("pack.viewed", "share.previewed"):
        assert await outbox_events(outbox, kind, link_id=link_id) == []


async def test_the_signed_in_surface_opens_only_for_grantees_and_the_owner(
    api: httpx.AsyncClient, catalog_events: KafkaBroker, acting_as: Headers
) -> None:
    slug, _, owner, _ = await new_pack_link(api, catalog_events, acting_as, grantees=[" Bob "])
    path = f"/internal/granted-pack-links/{slug}"
    assert (await api.get(path, headers=acting_as(new_id("usr"), "eve"))).status_code == 404
    assert (await api.get(path, headers=acting_as(new_id("usr"), "bob"))).status_code == 200
    assert (await api.get(path, headers=acting_as(owner, "ada"))).status_code == 200
    # the anonymous surface does not ask for a grant
    assert (await api.get(f"/internal/pack-links/{slug}", headers=acting_as())).status_code == 200


async def test_a_revoked_pack_link_is_not_found(
    api: httpx.AsyncClient, catalog_events: KafkaBroker, acting_as: Headers
) -> None:
    slug, link_id, owner, track = await new_pack_link(api, catalog_events, acting_as)
    org = track.organization_id
    # an admin of the organization may revoke a member's link
    revoked = await api.delete(
        f"/internal/orgs/{org}/shares/{link_id}", headers=acting_as(new_id("usr"), role="admin")
    )
    assert revoked.status_code == 204
    response = await api.get(f"/internal/pack-links/{slug}", headers=acting_as(owner))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
