"""Drops cached public reads when catalog says something changed.

Every gateway replica must see every event, so each process joins with its own group id.
"""

from __future__ import annotations

import logging
import uuid

from faststream.kafka import KafkaBroker, KafkaMessage

from contracts import topics
from contracts.events import AlbumChanged, AlbumReleased, TrackChanged, TrackDeleted, parse_event
from gateway.cache import ALBUMS_TAG, PublicCache, track_tag
from servicekit.kafka import consumer_options
from servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)


def register_invalidation(
    broker: KafkaBroker, settings: ServiceSettings, cache: PublicCache
) -> None:
    options = {**consumer_options(settings), "auto_offset_reset": "latest"}

    @broker.subscriber(
        topics.CATALOG_LIFECYCLE, group_id=f"gateway-cache-{uuid.uuid4().hex[:12]}", **options
    )
    async def on_catalog_event(message: KafkaMessage) -> None:
        try:
            payload = parse_event(message.body).payload
        except ValueError:
            cache.clear()  # unknown shape: be safe, not stale
            return
        if isinstance(payload, TrackChanged):
            cache.invalidate(track_tag(payload.track.track_id), ALBUMS_TAG)
        elif isinstance(payload, TrackDeleted):
            cache.invalidate(track_tag(payload.track_id), ALBUMS_TAG)
        elif isinstance(payload, AlbumChanged | AlbumReleased):
            cache.invalidate(ALBUMS_TAG)
