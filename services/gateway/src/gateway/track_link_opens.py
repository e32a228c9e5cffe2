"""Opening a track link, the busiest public call: coalesced into batches for sharing.

Sharing resolves every open of a batch and records all their views in one transaction
(sharing/api/track_link_opens.py); the gateway answers each request only once its view
is stored, so a 200 always means a counted view.
"""

from __future__ import annotations

import msgspec

from contracts.dto import TrackLinkOpen, TrackLinkOpenBatch
from gateway.batching import Coalescer
from servicekit.upstream import InternalClient

MAX_TOKEN_CHARS = 200  # far longer than any token we issue; longer ones are never sent on

TrackLinkOpens = Coalescer[TrackLinkOpen, bytes | None]


def track_link_opens(sharing: InternalClient) -> TrackLinkOpens:
    async def send(opens: list[TrackLinkOpen]) -> list[bytes | None]:
        response = await sharing.request(
            "POST",
            "/internal/track-link-opens",
            content=TrackLinkOpenBatch(opens=opens).model_dump_json(),
            headers={"content-type": "application/json"},
        )
        views = msgspec.json.decode(response.content)["views"]
        return [None if view is None else msgspec.json.encode(view) for view in views]

    return Coalescer("sharing.track_link_opens", send)
