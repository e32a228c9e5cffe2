"""Stats of a link, pack or track: the service that owns it confirms it is in the caller's
organization (404 otherwise), then analytics answers for it. The JSON reports, their CSV
exports, the dashboard's pages and its live fragment all go through here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeVar

from contracts.api.analytics import LinkReport, PackReport, Report, TrackReport
from gateway.auth import Membership, actor
from gateway.context import GatewayContext
from servicekit.upstream import InternalClient, segment

Kind = Literal["links", "packs", "tracks"]
ReportT = TypeVar("ReportT", bound=Report)
Dates = tuple[date | None, date | None]
MODELS: dict[Kind, type[Report]] = {
    "links": LinkReport,
    "packs": PackReport,
    "tracks": TrackReport,
}
EXPORT_NAMES: dict[Kind, str] = {
    "links": "link-analytics",
    "packs": "pack-analytics",
    "tracks": "track-analytics",
}


@dataclass(frozen=True, slots=True)
class CsvExport:
    chunks: AsyncIterator[bytes]  # analytics' CSV, passed through as it is read
    filename: str


async def link_report(
    ctx: GatewayContext, m: Membership, link_id: str, dates: Dates = (None, None)
) -> LinkReport:
    return await _report(ctx, m, "links", link_id, dates, LinkReport)


async def pack_report(
    ctx: GatewayContext, m: Membership, pack_id: str, dates: Dates = (None, None)
) -> PackReport:
    return await _report(ctx, m, "packs", pack_id, dates, PackReport)


async def track_report(
    ctx: GatewayContext, m: Membership, track_id: str, dates: Dates = (None, None)
) -> TrackReport:
    return await _report(ctx, m, "tracks", track_id, dates, TrackReport)


async def report(ctx: GatewayContext, m: Membership, kind: Kind, target_id: str) -> Report:
    """The all-time report of any kind (the dashboard's pages)."""
    return await _report(ctx, m, kind, target_id, (None, None), MODELS[kind])


async def export(
    ctx: GatewayContext, m: Membership, kind: Kind, target_id: str, dates: Dates
) -> CsvExport:
    """Owner-checked exactly like the JSON report, then analytics' CSV passed through
    (analytics refuses a backwards range, in the envelope, before its first byte)."""
    await _check_owner(ctx, m, kind, target_id)
    upstream = await ctx.analytics.open_stream(
        f"/internal/stats/{kind}/{segment(target_id)}/engagement.csv", params=_params(dates)
    )
    return CsvExport(upstream.chunks(), EXPORT_NAMES[kind])


async def link_report_body(ctx: GatewayContext, link_id: str) -> bytes:
    """A link's report as analytics sends it, unchecked: the dashboard's live poller, for a
    link whose owner was checked when the page subscribed."""
    answer = await ctx.analytics.request("GET", f"/internal/stats/links/{segment(link_id)}")
    return answer.content


async def _report(
    ctx: GatewayContext,
    m: Membership,
    kind: Kind,
    target_id: str,
    dates: Dates,
    model: type[ReportT],
) -> ReportT:
    await _check_owner(ctx, m, kind, target_id)
    upstream = await ctx.analytics.request(
        "GET", f"/internal/stats/{kind}/{segment(target_id)}", params=_params(dates)
    )
    return model.model_validate_json(upstream.content)


async def _check_owner(ctx: GatewayContext, m: Membership, kind: Kind, target_id: str) -> None:
    """404 unless the link (sharing) or the pack or track (catalog) is in the organization."""
    owner: InternalClient = ctx.sharing if kind == "links" else ctx.catalog
    collection = "shares" if kind == "links" else kind
    path = f"/internal/orgs/{segment(m.organization_id)}/{collection}/{segment(target_id)}"
    await owner.request("GET", path, actor=actor(m.caller))


def _params(dates: Dates) -> dict[str, str]:
    return {k: v.isoformat() for k, v in zip(("from", "to"), dates, strict=True) if v is not None}
