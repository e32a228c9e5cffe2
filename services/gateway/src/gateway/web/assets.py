"""Our one stylesheet and one script, served under names that carry a hash of their
content, so they can be cached for a year and never go stale. Read and gzipped once."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Request, Response, get

from contracts.errors import ErrorCode
from servicekit.errors import ApiError

STATIC = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@dataclass(frozen=True)
class Asset:
    name: str  # hashed, e.g. player.3f2a9c1b7d0e.js
    content_type: str
    body: bytes
    gzipped: bytes


def load(path: Path) -> Asset:
    body = path.read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:12]
    name = f"{path.stem}.{digest}{path.suffix}"
    return Asset(name, TYPES[path.suffix], body, gzip.compress(body, 9, mtime=0))


ASSETS = {path.name: load(path) for path in sorted(STATIC.iterdir()) if path.suffix in TYPES}
BY_HASHED_NAME = {asset.name: asset for asset in ASSETS.values()}


def asset_url(name: str) -> str:
    """The URL of an asset by its plain name (`player.js`), for templates."""
    return f"/assets/{ASSETS[name].name}"


@get("/assets/{name:str}", include_in_schema=False, cache=False)
async def serve_asset(request: Request[Any, Any, Any], name: str) -> Response[bytes]:
    asset = BY_HASHED_NAME.get(name)
    if asset is None:
        raise ApiError(ErrorCode.RESOURCE_NOT_FOUND, "no such asset")
    headers = {
        "cache-control": IMMUTABLE,
        "x-content-type-options": "nosniff",
        "vary": "accept-encoding",
    }
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["content-encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.content_type, headers=headers)
    return Response(asset.body, media_type=asset.content_type, headers=headers)
