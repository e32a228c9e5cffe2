"""Upload → `ready` latency on the idle stack (SPEC §7; target p95 < 10 s): 20 uploads of a
3-minute stereo 44.1 kHz WAV, one at a time, each timed from the upload's 201 to the first
poll (every 50 ms) of the owner's track view that shows `processing_state: ready`.

    uv run python bench/media_ready.py [--uploads 20]
"""

from __future__ import annotations

import argparse
import math
import shutil
import struct
import sys
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from figures import Figure, median, percentile, table
from stack import ROOT, running_stack

TARGET_P95 = 10.0
SECONDS = 180
RATE = 44_100


def three_minute_wav(path: Path) -> Path:
    """A 440/660 Hz stereo tone, written in one-second blocks (no numpy needed)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        for second in range(SECONDS):
            frames = bytearray()
            for i in range(RATE):
                t = (second * RATE + i) / RATE
                left = int(9000 * math.sin(2 * math.pi * 440 * t))
                right = int(9000 * math.sin(2 * math.pi * 660 * t))
                frames += struct.pack("<hh", left, right)
            out.writeframes(bytes(frames))
    return path


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    failed: int = 0

    def figures(self) -> list[Figure]:
        p95 = percentile(self.latencies, 0.95)
        return [
            Figure(
                "media_ready",
                f"upload→ready p95 {p95:.2f} s, median {median(self.latencies):.2f} s "
                f"({len(self.latencies)} uploads of a 3-min WAV, {self.failed} not ready)",
                f"p95 < {TARGET_P95:.0f} s",
                p95 < TARGET_P95 and self.failed == 0,
            )
        ]


def measure(uploads: int = 20, timeout: float = 120.0) -> Result:
    data_dir = ROOT / ".data" / "bench-media-ready"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    audio = three_minute_wav(data_dir / "three-minutes.wav")
    result = Result()
    # the default 50 MiB limit takes a 3-minute 16-bit stereo WAV (about 32 MB)
    with running_stack(data_dir) as stack:
        for n in range(uploads):
            with audio.open("rb") as file:
                response = stack.api.post(
                    f"/v1/music/{stack.org}/tracks",
                    headers=stack.headers,
                    files={"file": ("three-minutes.wav", file, "audio/wav")},
                    data={"title": f"bench {n}"},
                )
            response.raise_for_status()
            uploaded = time.perf_counter()
            track_id = response.json()["id"]
            while time.perf_counter() - uploaded < timeout:
                state = stack.api.get(
                    f"/v1/music/{stack.org}/tracks/{track_id}", headers=stack.headers
                ).json()["processing_state"]
                if state != "processing":
                    break
                time.sleep(0.05)
            if state == "ready":
                result.latencies.append(time.perf_counter() - uploaded)
            else:
                result.failed += 1
    shutil.rmtree(data_dir, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--uploads", type=int, default=20)
    args = parser.parse_args()
    print(table(measure(args.uploads).figures()))


if __name__ == "__main__":
    main()
