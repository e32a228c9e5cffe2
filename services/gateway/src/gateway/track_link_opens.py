"""Opening a track link, the busiest public call.

A cached link (link_cache.py) is answered at once, from the gateway's memory. A link not
cached yet is resolved by sharing, coalesced with the other misses of the moment into one
call (batching.py); if sharing cannot be reached, a link cached before (past its TTL) is
still served. Either way the view is queued for sharing to record as `share.clicked`
(visits.py): the answer does not wait for that transaction, as the SPEC allows engagement
recording to be best-effort, and the queue retries until sharing has it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from prometheus_client import Counter

from contracts.dto import ResolvedTrackLink, TrackLinkResolveRequest, TrackLinkResolveResults
from contracts.errors import ErrorCode
from contracts.events import PreviewReason
from contracts.hashing import hash_secret
from contracts.ids import new_event_id
from contracts.text import trim
from gateway.batching import Coalescer
from gateway.db.identity import Caller
from gateway.domain.engagement import Agent
from gateway.link_cache import CachedLink, TrackLinkCache
from gateway.visits import CLIENT, JSON, Admit, Visit, VisitRecorder, post_batch
from servicekit.errors import ApiError
from servicekit.upstream import InternalClient

SERVED_STALE = Counter(
    "encore_gateway_link_cache_stale_served_total",
    "Track-link opens served past the cache TTL because sharing was unreachable",
)

VISITOR_PARAMS = ("visitorId", "sessionId", "source")

MAX_TOKEN_CHARS = 200  # far longer than any token we issue; longer ones are never sent on


def visit_params(query: Iterable[tuple[str, str]]) -> dict[str, str]:
    """What a visitor says of themselves (the last of repeated parameters), cleaned as
    sharing cleans it: a queued visit stays small whatever the query string held."""
    last = {key: value for key, value in query if key in VISITOR_PARAMS}
    return {key: cleaned for key, value in last.items() if (cleaned := trim(value)) is not None}


class TrackLinkOpens:
    def __init__(
        self, sharing: InternalClient, cache: TrackLinkCache, admit: Admit | None = None
    ) -> None:
        self.sharing = sharing
        self.cache = cache
        self.resolver: Coalescer[str, ResolvedTrackLink | None] = Coalescer(
            "sharing.track_link_resolve", self._resolve
        )
        self.visits = VisitRecorder(self._record, admit=admit)

    async def open(
        self,
        token: str,
        params: dict[str, str],
        caller: Caller | None,
        traceparent: str | None,
        *,
        client: str,
        agent: Agent,
        preview: PreviewReason | None = None,
    ) -> bytes | None:
        """The link's public payload with its view queued (a preview, when `preview` says
        why it is not a person's view), or None if it is unavailable."""
        found = await self._find(token)
        if found is None:
            return None
        link_id, body = found
        self.record(
            link_id, params, caller, traceparent, client=client, agent=agent, preview=preview
        )
        return body

    def cached(self, token: str) -> CachedLink | None:
        """The fresh cache entry for this token, if there is one: no call to sharing, and
        not counted as a hit or miss (the caller counts what it serves)."""
        if len(token) > MAX_TOKEN_CHARS:
            return None
        return self.cache.get(hash_secret(token), counted=False)

    def record(
        self,
        link_id: str,
        params: dict[str, str],
        caller: Caller | None,
        traceparent: str | None,
        *,
        client: str,
        agent: Agent,
        preview: PreviewReason | None = None,
    ) -> None:
        """Queue the view (or preview) of a served page for sharing (see visits.py); an
        anonymous one is charged to `client`'s engagement limit when its batch is sent."""
        self.visits.add(
            {
                CLIENT: None if caller else client,
                "device": agent.device,
                "preview": preview,
                "event_id": new_event_id(),
                "occurred_at": datetime.now(UTC),
                "link_id": link_id,
                "params": params,
                "user_id": caller.user_id if caller else None,
                "user_handle": caller.handle if caller else None,
                "user_display_name": caller.display_name if caller else None,
                "traceparent": traceparent,
            }
        )

    async def _find(self, token: str) -> tuple[str, bytes] | None:
        """(link id, public payload) from the cache, else from sharing."""
        if len(token) > MAX_TOKEN_CHARS:
            return None
        token_hash = hash_secret(token)
        cached = self.cache.get(token_hash)
        if cached is not None:
            return cached.link_id, cached.body
        generation = self.cache.generation
        try:
            resolved = await self.resolver.submit(token)
        except ApiError as exc:
            stale = self.cache.stale(token_hash)
            if exc.code is not ErrorCode.SERVICE_UNAVAILABLE or stale is None:
                raise
            SERVED_STALE.inc()
            return stale.link_id, stale.body
        if resolved is None:
            self.cache.forget(token_hash)  # never served stale again
            return None
        body = resolved.view.model_dump_json().encode()
        self.cache.put(
            token_hash,
            link_id=resolved.link_id,
            track_id=resolved.track_id,
            track_updated_at=resolved.track_updated_at,
            expires_at=resolved.expires_at,
            body=body,
            generation=generation,
        )
        return resolved.link_id, body

    async def _resolve(self, tokens: list[str]) -> list[ResolvedTrackLink | None]:
        response = await self.sharing.request(
            "POST",
            "/internal/track-link-opens/resolve",
            content=TrackLinkResolveRequest(tokens=tokens).model_dump_json(),
            headers=JSON,
        )
        return TrackLinkResolveResults.model_validate_json(response.content).links

    async def _record(self, visits: list[Visit]) -> None:
        await post_batch(
            self.sharing, "/internal/track-link-opens/visits", "visits", visits, "track-link visits"
        )
