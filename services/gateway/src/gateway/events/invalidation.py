"""Drops cached public reads and resolved track links when catalog or sharing says
something changed, and tells the media access check (media_access.py) which links and
tracks may no longer be played.

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
    PackChanged,
    ShareLinkLifecycle,
    TrackChanged,
    TrackDeleted,
    parse_event,
)
from gateway.cache import ALBUMS_TAG, PublicCache, track_tag
from gateway.link_cache import TrackLinkCache
from gateway.media_access import MediaAccessCache
from servicekit.kafka import consumer_options
from servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)
WATCHED = (topics.CATALOG_LIFECYCLE, topics.SHARE_LIFECYCLE)


class LinkCacheSwitch(ConsumerRebalanceListener):  # type: ignore[misc]
    """Turns the link caches on once both watched topics are assigned, off when they go."""

    def __init__(self, links: TrackLinkCache, media: MediaAccessCache) -> None:
        self.links = links
        self.media = media

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.links.set_enabled(False)
        self.media.set_enabled(False)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        enabled = {tp.topic for tp in assigned} >= set(WATCHED)
        self.links.set_enabled(enabled)
        self.media.set_enabled(enabled)


def register_invalidation(
    broker: KafkaBroker,
    settings: ServiceSettings,
    cache: PublicCache,
    links: TrackLinkCache,
    media: MediaAccessCache,
) -> None:
    options = {**consumer_options(settings), "auto_offset_reset": "latest"}

    @broker.subscriber(
        *WATCHED,
        group_id=f"gateway-cache-{uuid.uuid4().hex[:12]}",
        listener=LinkCacheSwitch(links, media),
        **options,
    )
    async def on_change(message: KafkaMessage) -> None:
        try:
            payload = parse_event(message.body).payload
        except ValueError:
            log.warning("unreadable event on a watched topic: dropping every cached entry")
            cache.clear()  # unknown shape: be safe, not stale
            links.clear()
            media.set_enabled(media.enabled)  # forgets kept answers
            return
        if isinstance(payload, ShareLinkLifecycle):
            if payload.action != "created":
                links.link_revoked(payload.link_id)
                media.link_gone(payload.link_id)
        elif isinstance(payload, TrackChanged):
            track = payload.track
            cache.invalidate(track_tag(track.track_id), ALBUMS_TAG)
            links.track_changed(track.track_id, track.updated_at)
            media.track_changed(track.track_id, track.updated_at, track.visibility == "public")
        elif isinstance(payload, TrackDeleted):
            cache.invalidate(track_tag(payload.track_id), ALBUMS_TAG)
            links.track_changed(payload.track_id, None)
            media.track_changed(payload.track_id, None, public=False)
        elif isinstance(payload, PackChanged):
            media.pack_changed(
                payload.pack_id, None if payload.action == "deleted" else payload.track_ids
            )
        elif isinstance(payload, AlbumChanged | AlbumReleased):
            cache.invalidate(ALBUMS_TAG)
