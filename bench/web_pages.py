"""The link pages, measured in one run (SPEC §8, issue 16):

- Track link page `GET /t/{token}`, anonymous, each request recording a view, under the
  public link bench's load, against the same bare Litestar baseline (public_link.py):
  throughput ≥ 0.4 x baseline, p99 < 20 ms, every view counted.
- Weight of a first visit: the page's HTML, CSS and script, gzip: ≤ 60 KB.
- In Chromium on loopback: click on play → the audio element's `playing` event, p95 over
  20 tries ≤ 300 ms.

    uv run python bench/web_pages.py [--connections 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import gzip
import re
import secrets
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))
from figures import Figure, percentile
from loadgen import LoadResult, run_load
from public_link import baseline
from stack import ROOT, running_stack

WEIGHT_LIMIT = 60 * 1024
PLAY_TRIES = 20


@dataclass
class Result:
    base: LoadResult
    page: LoadResult
    counted: bool
    views: int
    weight_bytes: int
    play_ms: list[float]

    def figures(self) -> list[Figure]:
        ratio = self.page.rate / self.base.rate
        p99 = self.page.p99 * 1000
        p95 = percentile(self.play_ms, 0.95) if self.play_ms else float("nan")
        return [
            Figure(
                "track link page, anonymous, view recorded",
                f"{self.page.rate:,.0f} req/s, {ratio:.2f} of baseline ({self.base.rate:,.0f});"
                f" p99 {p99:.1f} ms; views {self.views}/{self.page.ok}",
                "≥ 0.4 × baseline, p99 < 20 ms, all counted",
                ratio >= 0.4 and p99 < 20 and self.counted,
            ),
            Figure(
                "first visit weight (HTML+CSS+JS, gzip)",
                f"{self.weight_bytes / 1024:.1f} KB",
                "≤ 60 KB",
                self.weight_bytes <= WEIGHT_LIMIT,
            ),
            Figure(
                f"click play → playing, Chromium ({len(self.play_ms)} tries)",
                f"p95 {p95:.0f} ms",
                "p95 ≤ 300 ms",
                bool(self.play_ms) and p95 <= 300,
            ),
        ]


def weight(gateway: str, token: str) -> int:
    import httpx

    page = httpx.get(f"{gateway}/t/{token}", headers={"user-agent": "Slackbot"})
    total = len(gzip.compress(page.content))
    for name in re.findall(r"/assets/[a-z]+\.[0-9a-f]{12}\.(?:css|js)", page.text):
        total += len(httpx.get(gateway + name, headers={"accept-encoding": "gzip"}).content)
    return total


def play_latency(gateway: str, token: str) -> list[float]:
    """Each try in a fresh page, once it has settled (network idle: a person reads the page
    before clicking, and the player fetches its signed URL and the first bytes meanwhile):
    click Play, time to the `playing` event, in the page's own clock (performance.now),
    so the driver's round trips are not counted."""
    from tests.browser import CHROMIUM, chromium

    if not CHROMIUM.exists():
        print(f"{CHROMIUM} absent: no play latency measured")
        return []
    times: list[float] = []
    with chromium() as browser:
        for _ in range(PLAY_TRIES):
            page = browser.new_page(user_agent="Slackbot-bench")  # not counted as views
            page.goto(f"{gateway}/t/{token}", wait_until="networkidle")
            page.evaluate(
                "() => { const a = document.querySelector('audio');"
                " window.__played = new Promise(r => a.addEventListener('playing',"
                " () => r(performance.now()), {once: true}));"
                " document.querySelector('button.play').addEventListener('click',"
                " () => { window.__clicked = performance.now(); }, {capture: true, once: true}); }"
            )
            page.locator("button.play").click()
            elapsed = page.evaluate("async () => (await window.__played) - window.__clicked")
            times.append(float(elapsed))
            page.close()
    return times


def measure(connections: int = 16, seconds: float = 10.0) -> Result:
    data_dir = ROOT / ".data" / f"bench-{secrets.token_hex(4)}"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        base = baseline(connections, seconds, data_dir)
        with running_stack(data_dir / "suite") as stack:
            link = stack.share(stack.upload_track())
            page = run_load(stack.suite.gateway_port, f"/t/{link['token']}", connections, seconds)
            in_flight = connections if page.tool == "wrk" else 0
            deadline, views, settled = time.monotonic() + 60, -1, time.monotonic()
            while time.monotonic() < deadline:
                listing = stack.api.get(f"/v1/music/{stack.org}/shares", headers=stack.headers)
                now = listing.json()["items"][0]["stats"]["views"]
                if now != views:
                    views, settled = now, time.monotonic()
                elif views >= page.ok and time.monotonic() - settled > 1.0:
                    break
                time.sleep(0.2)
            gateway = stack.suite.gateway_url
            size = weight(gateway, link["token"])
            played = play_latency(gateway, link["token"])
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    counted = page.ok <= views <= page.ok + in_flight
    return Result(base, page, counted, views, size, played)


def report(result: Result) -> None:
    for figure in result.figures():
        print(f"| {figure.benchmark} | {figure.figure} | {figure.target} | {figure.met} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    result = measure(args.connections, args.seconds)
    report(result)
    sys.exit(0 if result.counted else 1)


if __name__ == "__main__":
    main()
