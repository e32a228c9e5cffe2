"""Media processing cost: real-time factor of `process_audio` on one core, its overhead
against a bare PyAV loop doing the same two encodes in the same run, and the peak memory of
a fresh process handling a 3-minute and a 60-minute file.

Each measurement runs in its own child process pinned to one core, so its CPU time and its
peak RSS (getrusage in the child) are its own. CPU time, not wall time, is the figure: the
machine is shared, and a core's worth of CPU is what one worker costs.

    uv run python bench/media_worker.py [--long-minutes 60] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from figures import Figure, table

RATE = 44_100
RTF_TARGET = 50.0
RATIO_TARGET = 0.8
RSS_TARGET_MB = 250.0


def write_music_wav(path: Path, seconds: int) -> None:
    """Stereo 16-bit 44.1 kHz: chords, noise and a moving envelope, written a second at a
    time so an hour never sits in memory."""
    rng = np.random.default_rng(1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        t = np.arange(RATE) / RATE
        for second in range(seconds):
            now = second + t
            envelope = 0.35 + 0.25 * np.sin(2 * math.pi * now / 7.0)
            chord = sum(np.sin(2 * math.pi * f * now) for f in (110.0, 220.0 * 1.26, 330.0))
            left = envelope * (0.3 * chord + 0.05 * rng.standard_normal(RATE))
            right = envelope * (0.3 * np.roll(chord, 40) + 0.05 * rng.standard_normal(RATE))
            pcm = np.clip(np.stack([left, right], axis=1) * 32767, -32768, 32767)
            out.writeframes(pcm.astype("<i2").tobytes())


def bare_encode(source: Path, workdir: Path) -> None:
    """The floor: decode, resample and encode both renditions with the worker's encoder
    settings (imported, so the two cannot drift apart), nothing else measured."""
    import av

    from catalog.media.audio import AAC_BITRATE, AAC_OPTIONS, OPUS_BITRATE, OPUS_OPTIONS

    with av.open(str(source)) as inp:
        stream = inp.streams.audio[0]
        rate = min(stream.codec_context.sample_rate, 48_000)
        outs = []
        for codec, fmt, out_rate, sample_format, size, bitrate, name, codec_options in (
            ("libopus", "webm", 48_000, "flt", 960, OPUS_BITRATE, "bare.webm", OPUS_OPTIONS),
            ("aac", "mp4", rate, "fltp", 1024, AAC_BITRATE, "bare.m4a", AAC_OPTIONS),
        ):
            options = {"movflags": "+faststart"} if fmt == "mp4" else {}
            container = av.open(str(workdir / name), "w", format=fmt, container_options=options)
            out = container.add_stream(codec, rate=out_rate, layout="stereo", options=codec_options)
            assert isinstance(out, av.AudioStream)
            out.bit_rate = bitrate
            resampler = av.AudioResampler(
                format=sample_format, layout="stereo", rate=out_rate, frame_size=size
            )
            outs.append((container, out, resampler, [0]))
        for frame in inp.decode(stream):
            frame.pts = None
            for container, out, resampler, clock in outs:
                for block in resampler.resample(frame):
                    block.pts, block.time_base = clock[0], Fraction(1, block.sample_rate)
                    clock[0] += block.samples
                    container.mux(out.encode(block))
        for container, out, resampler, clock in outs:
            for block in resampler.resample(None):
                block.pts, block.time_base = clock[0], Fraction(1, block.sample_rate)
                clock[0] += block.samples
                container.mux(out.encode(block))
            container.mux(out.encode(None))
            container.close()


def child(mode: str, source: Path) -> None:
    """Runs in the measured process: one core, then one job, then its own usage as JSON."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from catalog.media import process_audio

    with tempfile.TemporaryDirectory() as workdir:
        before = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.perf_counter()
        if mode == "process":
            process_audio(source, Path(workdir))
        else:
            bare_encode(source, Path(workdir))
        wall = time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({"cpu": cpu, "wall": wall, "maxrss_mb": after.ru_maxrss / 1024}))


@dataclass(frozen=True)
class Run:
    cpu: float
    wall: float
    maxrss_mb: float


def run_child(mode: str, source: Path) -> Run:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(source)],
        check=True,
        capture_output=True,
        text=True,
    )
    return Run(**json.loads(done.stdout.strip().splitlines()[-1]))


@dataclass(frozen=True)
class Result:
    short_seconds: int
    long_seconds: int
    process: Run  # best of the rounds, 3-minute file
    bare: Run
    long: Run

    def figures(self) -> list[Figure]:
        rtf = self.short_seconds / self.process.cpu
        ratio = self.bare.cpu / self.process.cpu
        return [
            Figure(
                "media_worker",
                f"process_audio, 3-min stereo 44.1 kHz WAV: {rtf:.0f}x real time on one core"
                f" ({self.process.cpu:.2f} s CPU, {self.process.wall:.2f} s wall)",
                f">= {RTF_TARGET:.0f}x",
                rtf >= RTF_TARGET,
            ),
            Figure(
                "media_worker",
                f"bare PyAV loop (same two encodes) / process_audio CPU: {ratio:.2f}"
                f" ({self.bare.cpu:.2f} s vs {self.process.cpu:.2f} s)",
                f">= {RATIO_TARGET}",
                ratio >= RATIO_TARGET,
            ),
            Figure(
                "media_worker",
                f"peak RSS of a fresh process, 3-min file: {self.process.maxrss_mb:.0f} MB",
                f"<= {RSS_TARGET_MB:.0f} MB",
                self.process.maxrss_mb <= RSS_TARGET_MB,
            ),
            Figure(
                "media_worker",
                f"peak RSS of a fresh process, {self.long_seconds // 60}-min file:"
                f" {self.long.maxrss_mb:.0f} MB ({self.long_seconds / self.long.cpu:.0f}x"
                " real time)",
                f"<= {RSS_TARGET_MB:.0f} MB",
                self.long.maxrss_mb <= RSS_TARGET_MB,
            ),
        ]


def measure(long_minutes: int = 60, rounds: int = 2) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench-media-") as scratch:
        short, long = Path(scratch) / "3min.wav", Path(scratch) / "long.wav"
        write_music_wav(short, 180)
        processed, bare = [], []
        for _ in range(rounds):  # alternate, so both see the same neighbours' load
            processed.append(run_child("process", short))
            bare.append(run_child("bare", short))
        write_music_wav(long, long_minutes * 60)
        long_run = run_child("process", long)
    return Result(
        short_seconds=180,
        long_seconds=long_minutes * 60,
        process=min(processed, key=lambda r: r.cpu),
        bare=min(bare, key=lambda r: r.cpu),
        long=long_run,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--long-minutes", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "SOURCE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    print(table(measure(args.long_minutes, args.rounds).figures()))


if __name__ == "__main__":
    main()
