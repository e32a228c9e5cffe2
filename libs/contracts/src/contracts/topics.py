"""Kafka topic names. Every topic has a dead-letter twin, `<topic>.dlq`."""

from __future__ import annotations

TRACK_PLAYED = "track.played"
PACK_VIEWED = "pack.viewed"
SHARE_CLICKED = "share.clicked"
TRACK_DOWNLOADED = "track.downloaded"
SHARE_RECORDED = "share.recorded"
SHARE_LIFECYCLE = "share.lifecycle"
TRACK_LISTENED = "track.listened"  # listening beacons (SPEC §9)
SHARE_PREVIEWED = "share.previewed"  # opens by previewers, bots, HEAD, prefetch
CATALOG_LIFECYCLE = "catalog.lifecycle"
MEDIA_JOBS = "media.jobs"  # catalog outbox -> media worker

ENGAGEMENT_TOPICS: tuple[str, ...] = (
    TRACK_PLAYED,
    PACK_VIEWED,
    SHARE_CLICKED,
    TRACK_DOWNLOADED,
    SHARE_RECORDED,
    TRACK_LISTENED,
    SHARE_PREVIEWED,
)
ALL_TOPICS: tuple[str, ...] = (
    *ENGAGEMENT_TOPICS,
    SHARE_LIFECYCLE,
    CATALOG_LIFECYCLE,
    MEDIA_JOBS,
)

DLQ_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    return topic + DLQ_SUFFIX


ALL_TOPICS_WITH_DLQ: tuple[str, ...] = (*ALL_TOPICS, *(dead_letter_topic(t) for t in ALL_TOPICS))
