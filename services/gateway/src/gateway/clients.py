"""Who is calling: the client's address, as far as configured proxies vouch for it.

`X-Forwarded-For` is whatever the client wrote, followed by what each proxy on the way
appended. Only proxies we run can be believed, so the header is read only when the direct
peer is one of them (ENCORE_TRUSTED_PROXIES, a list of CIDRs), from the right, skipping
addresses of further trusted proxies: the first address that is not ours is the client.
Anyone else's header is ignored, and their own address is the client. The same trust
decides whether a caller's `X-Request-ID` is taken (servicekit.middleware).

This runs on every public open, so the networks are parsed once and the verdict on each
address seen is cached (bounded: forwarded headers carry whatever the client wrote).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network, ip_address

from litestar.types import Scope

Network = IPv4Network | IPv6Network
_FORWARDED = b"x-forwarded-for"


class TrustedProxies:
    def __init__(self, networks: Iterable[Network], cache_size: int = 4096) -> None:
        self.networks = tuple(networks)
        self._trusts = functools.lru_cache(maxsize=cache_size)(self._within)

    def _within(self, address: str) -> bool:
        try:
            parsed = ip_address(address)
        except ValueError:  # not an address (e.g. "unknown", or a test client's name)
            return False
        return any(parsed in network for network in self.networks)

    def trusts(self, address: str) -> bool:
        """Whether `address` is one of our proxies."""
        return bool(self.networks) and self._trusts(address)

    def peer_trusted(self, scope: Scope) -> bool:
        """Whether the connection itself comes from one of our proxies."""
        return self.trusts(peer_of(scope))

    def client_address(self, scope: Scope) -> str:
        """The client's address: the peer's, or behind our proxies the rightmost entry of
        X-Forwarded-For that is not one of them. An entry that is not an address ends the
        walk at the proxy that passed it on (it cannot vouch for what lies further left)."""
        peer = peer_of(scope)
        if not self.trusts(peer):
            return peer
        joined = b",".join(v for k, v in scope["headers"] if k == _FORWARDED)
        client = peer
        for entry in reversed(joined.decode("latin-1").split(",")):
            entry = entry.strip()
            if not entry:
                continue
            try:
                address = str(ip_address(entry))
            except ValueError:
                return client
            if not self.trusts(address):
                return address
            client = address
        return client  # every hop is ours: the request started inside


def peer_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
