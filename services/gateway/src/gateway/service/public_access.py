"""The rules of the public link surfaces, shared by the JSON API (api/public.py) and the
pages a person opens (web/pages.py): one place decides what a token, slug or access code
opens, what is charged to which rate budget and what is counted as a view."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from litestar import Request
from pydantic import BaseModel

from contracts.dto import SignedUrl
from contracts.errors import ErrorCode, default_status
from contracts.events import PreviewReason
from gateway.auth import actor
from gateway.context import GatewayContext
from gateway.db.identity import Caller
from gateway.domain.engagement import agent_of, preview_reason
from gateway.ratelimit import Attempt
from gateway.track_link_opens import visit_params
from servicekit.errors import ApiError
from servicekit.internal import DEVICE_HEADER, ENGAGEMENT_HEADER, NOT_A_VISIT
from servicekit.tracing import current_traceparent
from servicekit.upstream import segment

Req = Request[Any, Any, Any]
Answer = TypeVar("Answer", bound=BaseModel)
FORWARDED_PARAMS = ("visitorId", "sessionId", "source", "accessCode")
LOOKUP_FAILURES = {ErrorCode.RESOURCE_NOT_FOUND, ErrorCode.TRACK_LINK_UNAVAILABLE}
JSON = {"content-type": "application/json"}


def forwarded(query: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The query parameters sharing reads (the last of repeated ones), cut to a sane size."""
    return {k: v[:1000] for k, v in query if k in FORWARDED_PARAMS}


def preview_of(request: Req) -> PreviewReason | None:
    """Why opening a link with this request is not a person's view, or None when it is
    (gateway/domain/engagement.py): every surface that opens links asks this."""
    return preview_reason(request.method, request.headers)


async def to_sharing(
    request: Req,
    path: str,
    caller: Caller | None,
    ctx: GatewayContext,
    answer: type[Answer],
    link: str | None = None,
    body: BaseModel | None = None,
    extra: Mapping[str, str] | None = None,
    method: str | None = None,
    lookup: str | None = None,
    preview: PreviewReason | None = None,
    engages: bool = True,
    count_view: bool = True,
) -> Answer:
    """Forward a public call to sharing, each attempt charged to the client's budgets
    before it is made (see ratelimit.py); `link` is the pack link an access code opens.
    Sharing's answer is read as the `answer` model, which is what the route documents.
    `extra` adds parameters a page received otherwise than in its query (a posted access
    code, a cookie), cut like the query's. `lookup` names what the lookup budget is charged
    for (default: the path); a page's many calls for one link name the link, so that
    opening a pack of many tracks is one lookup, not one per track and per waveform.
    `preview` (see `preview_of`) tells sharing the open is not a person's view: it records
    `share.previewed` instead. `engages` false for what records nothing (waveforms, split
    sheets); otherwise an anonymous caller is charged to its engagement limit, and past it
    sharing is told not to record (the answer is the same). `count_view` false for a read
    that is no new visit (a posted code, the player's URL before the click): nothing is
    recorded and nothing charged. All travel in internal
    headers a client cannot set, with the device parsed from the User-Agent (the raw
    string never leaves the gateway)."""
    client = ctx.proxies.client_address(request.scope)
    params = forwarded(request.query_params.items())
    if extra:
        params.update(forwarded(extra.items()))
    headers = {DEVICE_HEADER: agent_of(request.headers.get("user-agent")).header}
    if body is not None:
        headers.update(JSON)
    if not count_view:
        headers[ENGAGEMENT_HEADER] = NOT_A_VISIT
    elif engages and caller is None and not (await ctx.limiters.admit([client]))[0]:
        headers[ENGAGEMENT_HEADER] = "limited"
    elif preview is not None:
        headers[ENGAGEMENT_HEADER] = f"preview:{preview}"
    async with ctx.limiters.attempt(
        client, lookup or path, link, params.get("accessCode")
    ) as attempt:
        try:
            upstream = await ctx.sharing.request(
                method or request.method,
                path,
                params=params,
                actor=actor(caller),
                content=None if body is None else body.model_dump_json(exclude_unset=True),
                headers=headers,
            )
        except ApiError as exc:
            await refused(attempt, exc)
            raise
        attempt.succeeded()
    return answer.model_validate_json(upstream.content)


async def refused(attempt: Attempt, exc: ApiError) -> None:
    """What a refused lookup is charged: a failed lookup (nothing found), a wrong access
    code, or, for any other refusal, a lookup that found something; a 5xx charges nothing."""
    if exc.code in LOOKUP_FAILURES:
        await attempt.lookup_failed()
    elif exc.code is ErrorCode.ACCESS_CODE_INVALID:
        attempt.code_refused()
    elif default_status(exc.code) < 500:
        attempt.found()


async def public_playback_url(ctx: GatewayContext, client: str, track_id: str) -> SignedUrl:
    """A public track's signed streaming URL, for its page's player: no link, so nothing
    is counted (a listener's play on that page is reported as SPEC §3's plays and §9's
    beacons say). Charged to the client's lookup budget like any lookup."""
    async with ctx.limiters.attempt(client, f"track/{track_id}") as attempt:
        try:
            upstream = await ctx.catalog.request(
                "GET", f"/internal/tracks/{segment(track_id)}/public-playback-url"
            )
        except ApiError as exc:
            await refused(attempt, exc)
            raise
        attempt.succeeded()
    return SignedUrl.model_validate_json(upstream.content)


async def open_track_link(
    request: Req,
    token: str,
    caller: Caller | None,
    ctx: GatewayContext,
) -> bytes:
    """The track share payload, its `share.clicked` queued (see track_link_opens.py), or
    its `share.previewed` when it is not a person's view (`preview_of`). A cached link asks
    no shared store, as in the layer in front (cached_opens.py).

    The payload is the bytes the link cache holds, which sharing built from a
    `TrackLinkView` (the gateway validated it when it resolved the link): no model is built
    again per open, here or in front. Raises TRACK_LINK_UNAVAILABLE."""
    client = ctx.proxies.client_address(request.scope)
    params = visit_params(request.query_params.items())
    opens = ctx.track_link_opens
    agent = agent_of(request.headers.get("user-agent"))
    preview = preview_of(request)
    traceparent = current_traceparent()
    if opens.cached(token) is not None:
        ctx.limiters.check_spent(client)
        view = await opens.open(
            token, params, caller, traceparent, client=client, agent=agent, preview=preview
        )
    else:
        async with ctx.limiters.attempt(client, f"track-link/{token}") as attempt:
            view = await opens.open(
                token, params, caller, traceparent, client=client, agent=agent, preview=preview
            )
            if view is None:
                await attempt.lookup_failed()
            else:
                attempt.succeeded()
    if view is None:
        raise ApiError(ErrorCode.TRACK_LINK_UNAVAILABLE, "track link unavailable")
    return view
