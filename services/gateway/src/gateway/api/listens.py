"""`POST /v1/public/listens`: the web player's listening beacons (SPEC §9).

Validated in full against contracts.api.listens and answered 202. Recording them as
analytics events is issue 17; until then they are counted (accepted / rejected) and
dropped. The body is read as bytes so that `navigator.sendBeacon`'s text/plain works as
well as application/json."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from prometheus_client import Counter
from pydantic import ValidationError

from contracts.api.listens import MAX_LISTEN_BODY_BYTES, ListenBatch, ListensAccepted
from contracts.errors import ErrorCode
from servicekit.errors import ApiError

LISTEN_BEACONS = Counter(
    "encore_gateway_listen_beacons_total",
    "Listening beacons received by POST /v1/public/listens, by outcome (accepted, rejected)",
    ["outcome"],
)


class ListensController(Controller):
    path = "/v1/public/listens"
    request_max_body_size = MAX_LISTEN_BODY_BYTES

    @post(
        "/",
        status_code=202,
        description="Batched listening intervals per play id (SPEC §9), sent by the web "
        "player with sendBeacon. Validated and acknowledged with 202; recording them as "
        "analytics events comes with issue 17, so today they are counted, not stored. "
        f"Bodies over {MAX_LISTEN_BODY_BYTES} bytes get 413.",
    )
    async def listens(self, request: Request[Any, Any, Any]) -> ListensAccepted:
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
        return ListensAccepted(accepted=len(batch.beacons))
