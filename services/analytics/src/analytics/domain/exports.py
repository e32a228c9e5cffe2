"""A report's raw engagement as CSV rows (no I/O): the columns and what each row says.

One row per engagement fact of the scope and range (views, plays, downloads, re-shares and
previews, `counted` false for a repeat inside a dedupe window) and one row per play heard
through beacons (`listen`, with its seconds heard), in time order. A play's time is its
start, the instant the report's listening counters attribute it to. A listener is named as
in the report's listener depth."""

from __future__ import annotations

from typing import Any

from analytics.domain.listening import listener_name

EXPORT_COLUMNS = (
    "time",
    "kind",
    "counted",
    "link_id",
    "track_id",
    "source",
    "browser",
    "os",
    "device_class",
    "listener",
    "seconds_heard",
    "qualified",
    "preview_reason",
)
KIND_OF_TYPE = {
    "share.clicked": "view",
    "pack.viewed": "view",
    "track.played": "play",
    "track.downloaded": "download",
    "share.recorded": "reshare",
    "share.previewed": "preview",
}
LISTEN = "listen"


def csv_row(r: Any) -> list[Any]:
    """One exported row (db/export.py's `EXPORT` columns) as the CSV's cells."""
    kind = LISTEN if r.type == LISTEN else KIND_OF_TYPE.get(r.type, r.type)
    who = listener_name(r.user_handle, r.who) if (r.user_handle or r.who) else ""
    return [
        r.at.isoformat(),
        kind,
        "true" if r.counted else "false",
        r.link_id or "",
        r.track_id or "",
        r.source or "",
        r.browser or "unknown",
        r.os or "unknown",
        r.device_class or "unknown",
        who,
        "" if r.seconds_heard is None else round(r.seconds_heard, 1),
        "" if r.qualified is None else ("true" if r.qualified else "false"),
        r.reason or "",
    ]
