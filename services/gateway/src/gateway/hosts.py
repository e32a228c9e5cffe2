"""The Host header check the cached-open layer makes before answering in Litestar's place.

Litestar answers 400 to a request whose Host header holds a byte outside RFC 3986's
authority characters (unreserved, sub-delims, `:`, `[`, `]`, `@`, `%`), before routing.
The layer in front of it (cached_opens.py) must refuse to answer the same requests, so it
hands them to Litestar; this is that rule, ours, so the gateway does not import a private
Litestar module. The gateway configures no allowed-hosts list (no `allowed_hosts` on the
Litestar app), so syntax is the only check to mirror. tests/test_public_hot_path.py and
services/gateway/tests/test_hosts.py check both answer alike.
"""

from __future__ import annotations

import re

_AUTHORITY = re.compile(rb"\A[0-9A-Za-z!$&'()*+,;=\-._~:\[\]@%]*\Z")


def is_valid_host(host: bytes) -> bool:
    """Whether a Host header's value is one Litestar would route (not answer 400)."""
    return _AUTHORITY.match(host) is not None
