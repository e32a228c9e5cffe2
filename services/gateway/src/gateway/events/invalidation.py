"""Drops cached public reads and resolved track links when catalog or sharing says
something changed.

Every gateway replica must see every event, so each process joins with its own group id.
The resolved-link cache is used only while this consumer holds its partitions (see
gateway/link_cache.py): before that, a revocation could pass unseen.
"""

from __future__ import annotations

import logging
import uuid

from aiokafka import ConsumerRebalanceListener, TopicPartition
from faststream.kafka import KafkaBroker, KafkaMessage

from contracts import topics
from contracts.events import (
    AlbumChanged,
    AlbumReleased,
    ShareLinkLifecycle,
    TrackChanged,
    TrackDeleted,
    parse_event,
)
from gateway.cache import ALBUMS_TAG, PublicCache, track_tag
from gateway.link_cache import TrackLinkCache
from servicekit.kafka import consumer_options
from servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)
WATCHED = (topics.CATALOG_LIFECYCLE, topics.SHARE_LIFECYCLE)


class LinkCacheSwitch(ConsumerRebalanceListener):  # type: ignore[misc]
    """Turns the link cache on once both watched topics are assigned, off when they go."""

    def __init__(self, links: TrackLinkCache) -> None:
        self.links = links

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.links.set_enabled(False)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.links.set_enabled({tp.topic for tp in assigned} >= set(WATCHED))


def register_invalidation(
    broker: KafkaBroker, settings: ServiceSettings, cache: PublicCache, links: TrackLinkCache
) -> None:
    options = {**consumer_options(settings), "auto_offset_reset": "latest"}

    @broker.subscriber(
        *WATCHED,
        group_id=f"gateway-cache-{uuid.uuid4().hex[:12]}",
        listener=LinkCacheSwitch(links),
        **options,
    )
    async def on_change(message: KafkaMessage) -> None:
        try:
            payload = parse_event(message.body).payload
        except ValueError:
            log.warning("unreadable event on a watched topic: dropping every cached entry")
            cache.clear()  # unknown shape: be safe, not stale
            links.clear()
            return
        if isinstance(payload, ShareLinkLifecycle):
            if payload.action != "created":
                links.link_revoked(payload.link_id)
        elif isinstance(payload, TrackChanged):
            cache.invalidate(track_tag(payload.track.track_id), ALBUMS_TAG)
            links.track_changed(payload.track.track_id, payload.track.updated_at)
        elif isinstance(payload, TrackDeleted):
            cache.invalidate(track_tag(payload.track_id), ALBUMS_TAG)
            links.track_changed(payload.track_id, None)
        elif isinstance(payload, AlbumChanged | AlbumReleased):
            cache.invalidate(ALBUMS_TAG)
