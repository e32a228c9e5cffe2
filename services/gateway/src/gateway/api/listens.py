"""`POST /v1/public/listens`: the web player's listening beacons (SPEC §9).

Validated in full against contracts.api.listens, queued for sharing to record as
`track.listened` (gateway/listens.py), and answered 202 without waiting. The body is read
as bytes so that `navigator.sendBeacon`'s text/plain works as well as application/json.
An anonymous valid batch is answered in front of Litestar the same way (front_listens.py);
this route answers the rest: signed-in callers and every refusal."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from pydantic import ValidationError

from contracts.api.listens import MAX_LISTEN_BODY_BYTES, ListenBatch, ListensAccepted
from contracts.errors import ErrorCode
from gateway.auth import provide_optional_caller
from gateway.context import GatewayContext
from gateway.domain.engagement import agent_of
from gateway.listens import LISTEN_BEACONS
from servicekit.errors import ApiError
from servicekit.tracing import current_traceparent


class ListensController(Controller):
    path = "/v1/public/listens"
    request_max_body_size = MAX_LISTEN_BODY_BYTES

    @post(
        "/",
        status_code=202,
        description="Batched listening intervals per play id (SPEC §9), sent by the web "
        "player with sendBeacon; recorded as `track.listened` after the answer. A beacon of "
        "an unavailable link, of a track the link does not hold, or over the client's "
        "anonymous-engagement limit is still acknowledged, and dropped (counted in metrics). "
        f"Bodies over {MAX_LISTEN_BODY_BYTES} bytes get 413.",
    )
    async def listens(
        self, request: Request[Any, Any, Any], ctx: GatewayContext
    ) -> ListensAccepted:
        raw = await request.body()
        try:
            batch = ListenBatch.model_validate_json(raw)
        except ValidationError as exc:
            LISTEN_BEACONS.labels("rejected").inc()
            fields = {
                ".".join(str(p) for p in e["loc"]) or "body": e["msg"]
                for e in exc.errors(include_url=False, include_input=False)[:20]
            }
            raise ApiError(
                ErrorCode.VALIDATION_ERROR,
                "invalid " + ", ".join(fields),
                details={"fields": fields},
            ) from None
        LISTEN_BEACONS.labels("accepted").inc(len(batch.beacons))
        # signed in (a session cookie rides along with sendBeacon): an owner's own listening
        # is then skipped by sharing, as their views are
        caller = await provide_optional_caller(request, ctx)
        ctx.listens.accept(
            batch,
            caller,
            client=ctx.proxies.client_address(request.scope),
            agent=agent_of(request.headers.get("user-agent")),
            traceparent=current_traceparent(),
        )
        return ListensAccepted(accepted=len(batch.beacons))
