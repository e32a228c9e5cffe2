"""`make docs`: the AsyncAPI document of every topic, generated from the contracts.

Each topic is documented with the envelope of every event type that travels on it (from
`contracts.events.EVENT_TYPES`), its producer and its consumers, so the document cannot
drift from the code that publishes and validates the events.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Union

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from contracts import topics
from contracts.events import EVENT_TYPES, EventEnvelope

PRODUCERS = {
    topics.TRACK_PLAYED: "sharing, catalog",
    topics.PACK_VIEWED: "sharing",
    topics.SHARE_CLICKED: "sharing",
    topics.TRACK_DOWNLOADED: "sharing, catalog",
    topics.SHARE_RECORDED: "sharing",
    topics.SHARE_LIFECYCLE: "sharing",
    topics.TRACK_LISTENED: "sharing (beacons the gateway received, SPEC §9)",
    topics.SHARE_PREVIEWED: "sharing (opens that are not views, SPEC §9)",
    topics.CATALOG_LIFECYCLE: "catalog",
    topics.MEDIA_JOBS: "catalog",
}
CONSUMERS = {
    topics.SHARE_LIFECYCLE: "analytics, gateway (track-link cache invalidation)",
    topics.CATALOG_LIFECYCLE: "sharing (replicas), gateway (cache invalidation)",
    topics.MEDIA_JOBS: "the catalog media worker (catalog.worker)",
}


def build() -> AsyncAPI:
    broker = KafkaBroker("kafka:9092", description="Encore's event bus")
    for topic in topics.ALL_TOPICS:
        models = [EventEnvelope[m] for m in EVENT_TYPES.values() if topic == m.TOPIC]  # type: ignore[valid-type]
        schema: Any = models[0] if len(models) == 1 else Union[tuple(models)]  # noqa: UP007
        types = ", ".join(sorted(m.TYPE for m in EVENT_TYPES.values() if topic == m.TOPIC))
        broker.publisher(
            topic,
            schema=schema,
            title=topic,
            description=(
                f"Event types: {types}. Produced by {PRODUCERS[topic]} through the transactional "
                f"outbox; consumed by {CONSUMERS.get(topic, 'analytics')}. Keyed by target id. "
                f"Unparseable messages go to {topics.dead_letter_topic(topic)}."
            ),
        )
    return AsyncAPI(broker, title="Encore events", version="1.0.0", description=__doc__)


def main(argv: list[str] | None = None) -> int:
    target = Path((argv or sys.argv[1:] or ["docs/asyncapi.yaml"])[0])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(build().to_specification().to_yaml())
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
