"""The AsyncAPI document is generated from the contracts: every topic, every event type."""

from __future__ import annotations

import yaml

from contracts import topics
from contracts.events import EVENT_TYPES
from devstack.asyncapi import build


def test_every_topic_and_event_type_is_documented() -> None:
    document = yaml.safe_load(build().to_specification().to_yaml())
    channels = {channel["address"] for channel in document["channels"].values()}
    assert channels == set(topics.ALL_TOPICS)
    schemas = set(document["components"]["schemas"])
    for model in EVENT_TYPES.values():
        assert any(model.__name__ in name for name in schemas), model.__name__
    envelope = next(
        s
        for name, s in document["components"]["schemas"].items()
        if "TrackPlayed" in name and "Envelope" in name
    )
    assert {"event_id", "type", "version", "occurred_at", "producer", "trace_id", "payload"} <= set(
        envelope["properties"]
    )
