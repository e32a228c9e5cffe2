"""Page parameters of every list route, bounded at the edge so the OpenAPI states the bounds.

An offset past what Postgres's OFFSET takes (a bigint) used to reach the database and come
back as a 422 from a data error; now the gateway refuses it and names the parameter.
"""

from __future__ import annotations

from litestar.params import Parameter

POSTGRES_BIGINT_MAX = 2**63 - 1

LIMIT = Parameter(default=20, ge=1, le=100)
OFFSET = Parameter(default=0, ge=0, le=POSTGRES_BIGINT_MAX)
