"""Page parameters of every list route, bounded at the edge so the OpenAPI states the bounds.

An offset past what Postgres's OFFSET takes (a bigint) used to reach the database and come
back as a 422 from a data error. The bound is the largest integer every JSON client holds
exactly (2^53 - 1): a bigint's maximum is read back as a float by many, and rounds above it.
"""

from __future__ import annotations

from litestar.params import Parameter

MAX_OFFSET = 2**53 - 1

LIMIT = Parameter(default=20, ge=1, le=100)
OFFSET = Parameter(default=0, ge=0, le=MAX_OFFSET)
