"""The media proxy: signed media URLs end at the gateway; their bytes stream from catalog.

A stream holds a connection to catalog for as long as its reader takes, so a few hundred
readers that stall would hold every connection and stop all media. Streams are bounded:
- they have their own pool (`media_max_streams`), apart from the other internal calls
  (aiohttp, servicekit/upstream.py): JSON calls never wait behind media;
- one client address has at most `media_streams_per_client` open at once (429 beyond);
- each lasts at most `media_stream_max_seconds`, and once `media_stream_grace_seconds`
  have passed its average rate must stay above `media_stream_min_bytes_per_second`: a
  reader that stalls is cut off and its connection to catalog closed. Players resume with
  a `Range` request.

The body is sent by `BoundedStream`, a small ASGI app, rather than a Litestar `Stream`, so
that the deadline covers the wait in `send` itself (a stalled reader blocks there) and the
connection and the client's slot are given back when the stream ends, however it ends.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import anyio
from litestar.types import Receive, Scope, Send
from opentelemetry.instrumentation.aiohttp_client import create_trace_config
from prometheus_client import Counter, Gauge
from yarl import URL

from contracts.errors import ErrorCode
from gateway.settings import GatewaySettings
from servicekit.errors import UNREACHABLE, ApiError
from servicekit.internal import INTERNAL_TOKEN_HEADER
from servicekit.upstream import IDLE_CONNECTION_SECONDS, segment

log = logging.getLogger(__name__)

OPEN = Gauge("encore_gateway_media_streams_open", "Media streams being sent")
CUT = Counter(
    "encore_gateway_media_streams_cut_total",
    "Media streams cut off for lasting too long or going too slowly",
)
REFUSED = Counter(
    "encore_gateway_media_streams_refused_total",
    "Media requests refused because their client had too many streams open",
)


@dataclass(frozen=True, slots=True)
class StreamBounds:
    max_seconds: float
    min_bytes_per_second: float
    grace_seconds: float

    def due(self, started: float, sent: int) -> float:
        """By when the first `sent` bytes of a stream begun at `started` must have gone."""
        return started + min(
            self.max_seconds, self.grace_seconds + sent / self.min_bytes_per_second
        )


class ClientStreams:
    """How many media streams each client address has open (this process only)."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self._open: dict[str, int] = {}

    def claim(self, client: str) -> None:
        """Count one more stream for `client`, or refuse with 429."""
        count = self._open.get(client, 0)
        if count >= self.per_client:
            REFUSED.inc()
            raise ApiError(
                ErrorCode.RATE_LIMITED,
                "too many media streams open from this address",
                details={"max_streams": self.per_client},
                headers={"Retry-After": "1"},
            )
        self._open[client] = count + 1

    def release(self, client: str) -> None:
        count = self._open.get(client, 0) - 1
        if count > 0:
            self._open[client] = count
        else:
            self._open.pop(client, None)

    def open_for(self, client: str) -> int:
        return self._open.get(client, 0)


# what a failed connection to catalog or a read from it raises (a read timeout included)
UPSTREAM_ERRORS = (aiohttp.ClientError, TimeoutError)


class MediaResponse:
    """Catalog's answer to a media token: status and headers now, the body as it comes."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.content = b""

    @property
    def status_code(self) -> int:
        return self.response.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self.response.headers  # case-insensitive

    async def aread(self) -> bytes:
        self.content = await self.response.read()
        return self.content

    def json(self) -> Any:
        return json.loads(self.content)

    def aiter_raw(self) -> AsyncIterator[bytes]:
        return self.response.content.iter_any()

    async def aclose(self) -> None:
        """Give the connection back, or close it when the body was not read to its end (a
        stream cut off): a half-read connection is never reused."""
        if self.response.content.is_eof():
            self.response.release()
        else:
            self.response.close()


class MediaProxy:
    """Catalog's media, through a pool of its own, a slot per stream, bounds on each.

    aiohttp, like every internal call (servicekit/upstream.py), with its own connector."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.base_url = settings.catalog_url.rstrip("/")
        self.max_streams = settings.media_max_streams
        self.token = settings.internal_token.get_secret_value()
        wait = settings.upstream_timeout_seconds
        # `connect` bounds the wait for a pooled connection too: none free in time is a 503;
        # `sock_read` bounds each read of the body, not the whole stream (StreamBounds does)
        self.timeout = aiohttp.ClientTimeout(
            total=None, connect=wait, sock_connect=2.0, sock_read=wait
        )
        self._session: aiohttp.ClientSession | None = None
        self.clients = ClientStreams(settings.media_streams_per_client)
        self.bounds = StreamBounds(
            settings.media_stream_max_seconds,
            settings.media_stream_min_bytes_per_second,
            settings.media_stream_grace_seconds,
        )

    def session(self) -> aiohttp.ClientSession:
        """Made on first use: an aiohttp session belongs to the running event loop."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.max_streams,
                    keepalive_timeout=IDLE_CONNECTION_SECONDS,  # below catalog's keep-alive
                ),
                timeout=self.timeout,
                headers={INTERNAL_TOKEN_HEADER: self.token},
                auto_decompress=False,  # the bytes as catalog sent them
                trace_configs=[create_trace_config()],  # catalog continues the trace
            )
        return self._session

    async def open(self, token: str, headers: dict[str, str]) -> MediaResponse:
        """Catalog's response to a media token, its body not read yet (the caller closes
        it). 503 when catalog cannot be reached or no connection frees up in time."""
        url = URL(f"{self.base_url}/internal/media/{segment(token)}", encoded=True)
        try:
            return MediaResponse(await self.session().get(url, headers=headers))
        except UPSTREAM_ERRORS as exc:
            raise ApiError(ErrorCode.SERVICE_UNAVAILABLE, UNREACHABLE) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


class BoundedStream:
    """Sends an upstream response's body within the bounds, then gives back the upstream
    connection and the client's slot (claimed before this was made)."""

    def __init__(
        self,
        upstream: MediaResponse,
        headers: Iterable[tuple[str, str]],
        proxy: MediaProxy,
        client: str,
    ) -> None:
        self.upstream = upstream
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        self.proxy = proxy
        self.client = client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        OPEN.inc()
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.upstream.status_code,
                    "headers": self.headers,
                }
            )
            async with anyio.create_task_group() as streaming:
                streaming.start_soon(_cancel_on_disconnect, receive, streaming.cancel_scope)
                await self._send_body(send)
                streaming.cancel_scope.cancel()
        finally:
            OPEN.dec()
            self.proxy.clients.release(self.client)
            with anyio.CancelScope(shield=True):
                await self.upstream.aclose()

    async def _send_body(self, send: Send) -> None:
        """The chunks as they come, each read and sent by the time the bounds allow; past
        it the stream ends unfinished (the server then closes the connection)."""
        bounds = self.proxy.bounds
        started = anyio.current_time()
        sent = 0
        with anyio.CancelScope(deadline=bounds.due(started, 0)) as bounded:
            try:
                async for chunk in self.upstream.aiter_raw():
                    bounded.deadline = bounds.due(started, sent + len(chunk))
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    sent += len(chunk)
                    bounded.deadline = bounds.due(started, sent)
            except UPSTREAM_ERRORS as exc:  # catalog failed mid-body: the reader sees it cut
                log.warning("media stream from catalog broke off: %r", exc)
                return
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        if bounded.cancelled_caught:
            CUT.inc()
            log.info(
                "media stream cut off after %.1fs and %d bytes",
                anyio.current_time() - started,
                sent,
            )


async def _cancel_on_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()
