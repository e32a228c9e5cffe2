"""The gateway's invalidation subscriber (a FastStream subscriber) through `TestKafkaBroker`:
contracts envelopes on `catalog.lifecycle` and `share.lifecycle` drop what the caches hold
about what they name, a redelivery does no more, and an unreadable message drops everything
(its state is held in memory, so there is no database to look at here)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from contracts import topics
from contracts.events import ShareLinkLifecycle, TrackChanged, TrackSnapshot, wrap
from gateway.cache import ALBUMS_TAG, PublicCache, track_tag
from gateway.events.invalidation import register_invalidation
from gateway.link_cache import TrackLinkCache
from gateway.media_access import MediaAccessCache
from servicekit.settings import ServiceSettings

VERSION = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Caches:
    public: PublicCache
    links: TrackLinkCache
    media: MediaAccessCache
    broker: KafkaBroker


@pytest.fixture
async def caches() -> AsyncIterator[Caches]:
    public, links, media = PublicCache(60), TrackLinkCache(60), MediaAccessCache(60)
    broker = KafkaBroker("127.0.0.1:1")
    register_invalidation(broker, ServiceSettings(env="dev"), public, links, media)
    async with TestKafkaBroker(broker) as test_broker:
        # the rebalance listener turns the link cache on once partitions are assigned; the
        # in-memory broker assigns none
        links.set_enabled(True)
        yield Caches(public, links, media, test_broker)


def cache_link(links: TrackLinkCache, token_hash: str, link_id: str, track_id: str) -> None:
    links.put(
        token_hash,
        link_id=link_id,
        track_id=track_id,
        track_updated_at=VERSION,
        expires_at=None,
        body=b"{}",
        generation=links.generation,
    )


def snapshot(track_id: str, updated_at: datetime) -> TrackSnapshot:
    return TrackSnapshot(
        track_id=track_id,
        organization_id="org_a",
        owner_id="usr_a",
        title="Tone",
        visibility="public",
        content_type="audio/mpeg",
        size_bytes=1,
        created_at=VERSION,
        updated_at=updated_at,
    )


async def publish(broker: KafkaBroker, payload: Any, event_id: uuid.UUID | None = None) -> None:
    envelope = wrap(payload, producer="catalog", event_id=event_id)
    await broker.publish(envelope.model_dump_json().encode(), payload.TOPIC)


async def test_a_track_change_drops_its_public_reads_and_resolved_links(caches: Caches) -> None:
    caches.public.put("/v1/public/tracks/t1", 200, b"{}", {track_tag("t1")})
    caches.public.put("/v1/public/tracks/t2", 200, b"{}", {track_tag("t2")})
    caches.public.put("/v1/public/albums", 200, b"[]", {ALBUMS_TAG})
    cache_link(caches.links, "h1", "l1", "t1")
    cache_link(caches.links, "h2", "l2", "t2")

    await publish(
        caches.broker,
        TrackChanged(action="updated", track=snapshot("t1", VERSION + timedelta(1))),
    )
    assert caches.public.get("/v1/public/tracks/t1") is None
    assert caches.public.get("/v1/public/albums") is None
    assert caches.public.get("/v1/public/tracks/t2") is not None
    assert caches.links.get("h1") is None and caches.links.get("h2") is not None

    # a resolve that began before the event is refused, so it cannot bring the old back
    cache_link(caches.links, "h1", "l1", "t1")
    assert caches.links.get("h1") is None


async def test_a_revoked_link_is_dropped_and_a_redelivery_drops_nothing_else(
    caches: Caches,
) -> None:
    cache_link(caches.links, "h1", "l1", "t1")
    cache_link(caches.links, "h2", "l2", "t1")
    revoked = ShareLinkLifecycle(
        action="revoked", link_id="l1", link_kind="track", organization_id="o", owner_id="u"
    )
    event_id = uuid.uuid4()
    await publish(caches.broker, revoked, event_id)
    await publish(caches.broker, revoked, event_id)
    assert caches.links.get("h1") is None
    assert caches.links.get("h2") is not None


async def test_a_created_link_changes_nothing(caches: Caches) -> None:
    cache_link(caches.links, "h1", "l1", "t1")
    await publish(
        caches.broker,
        ShareLinkLifecycle(
            action="created", link_id="l1", link_kind="track", organization_id="o", owner_id="u"
        ),
    )
    assert caches.links.get("h1") is not None


async def test_an_unreadable_message_drops_every_cached_entry(caches: Caches) -> None:
    caches.public.put("/v1/public/tracks/t1", 200, b"{}", {track_tag("t1")})
    cache_link(caches.links, "h1", "l1", "t1")
    await caches.broker.publish(b"\x00 not an event", topics.SHARE_LIFECYCLE)
    assert caches.public.get("/v1/public/tracks/t1") is None
    assert caches.links.get("h1") is None
