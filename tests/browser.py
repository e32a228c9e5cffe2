"""Debian's Chromium under Playwright, for the browser tests and the player bench."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("ENCORE_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
    # a person's browser: headless Chromium names itself HeadlessChrome, which the gateway
    # rightly takes for a bot (SPEC §9 humans only) and would count no view of
    "--user-agent=Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / ".artifacts" / "screenshots"
AXE = Path(__file__).parent / "fixtures" / "axe" / "axe.min.js"


def require_chromium() -> None:
    """Skip without Chromium locally; fail in CI (.ci/run installs it)."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is absent (apt-get install -y chromium; .ci/run installs it)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright gives each launch a fresh temporary profile of its own
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
