"""The baseline of bench/public_link.py: a minimal Litestar app answering a constant JSON."""

from __future__ import annotations

from litestar import Litestar, get


@get("/", sync_to_thread=False)
def constant() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar([constant])
