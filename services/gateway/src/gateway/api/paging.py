"""Page parameters of every list route, bounded at the edge so the OpenAPI states the bounds.

An offset past what Postgres's OFFSET takes (a bigint) used to reach the database and come
back as a 422 from a data error. The bound is the largest integer every JSON client holds
exactly (2^53 - 1): a bigint's maximum is read back as a float by many, and rounds above it.
"""

from __future__ import annotations

from litestar.params import Parameter

from contracts.dto import MAX_FILTER_ID

MAX_OFFSET = 2**53 - 1

LIMIT = Parameter(default=20, ge=1, le=100)
OFFSET = Parameter(default=0, ge=0, le=MAX_OFFSET)

# the shares list's filters (contracts.dto.ShareLinkFilter): absent means every link
LINK_KIND = Parameter(default=None, description="only links of this kind")
TRACK_FILTER = Parameter(
    default=None,
    min_length=1,
    max_length=MAX_FILTER_ID,
    description="only links to this track (its track, ref and split-sheet links)",
)
PACK_FILTER = Parameter(
    default=None, min_length=1, max_length=MAX_FILTER_ID, description="only this pack's links"
)
