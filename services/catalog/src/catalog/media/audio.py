"""Decode an upload once, frame by frame, and from that one pass write both playback
renditions and measure duration, waveform peaks, loudness and true peak.

Memory stays flat: frames are resampled and encoded as they come, and the analysis sees
roughly one second of samples at a time.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.container
import mutagen
import numpy as np

from catalog.media.loudness import LoudnessMeter, TruePeakMeter
from catalog.media.peaks import PeakAccumulator
from catalog.media.types import AudioResult, MediaLimits, MediaRejected, Rendition

OPUS_BITRATE = 128_000
AAC_BITRATE = 192_000  # with the fast coder: above twoloop at 160 (docs/media-pipeline.md)
OPUS_RATE = 48_000
# Encoder settings, also used by the bench's bare PyAV loop so its ratio compares like with
# like. FFmpeg's AAC "fast" coder instead of the default "twoloop" search: ~2.5x cheaper,
# the largest single cost of a job, at a quality measured in docs/media-pipeline.md.
AAC_OPTIONS: dict[str, str] = {"aac_coder": "fast"}
OPUS_OPTIONS: dict[str, str] = {}
PEAK_POINTS = 1000
# A file that decodes to less than this share of the duration its header claims is cut off.
TRUNCATION_TOLERANCE = 0.9
AAC_RATES = (7350, 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
ANALYSIS_CHUNK = 1 << 16
DEFAULT_LIMITS = MediaLimits()


def aac_rate(source_rate: int) -> int:
    """The original rate, capped at 48 kHz, rounded up to a rate AAC can signal."""
    capped = min(source_rate, 48_000)
    return next(rate for rate in AAC_RATES if rate >= capped)


@dataclass
class _Output:
    """One rendition being written: its container, stream, resampler and sample clock."""

    name: str
    path: Path
    container: av.container.OutputContainer
    stream: av.AudioStream
    resampler: av.AudioResampler
    frame_size: int
    time_base: Fraction
    fifo: av.AudioFifo = field(default_factory=av.AudioFifo)
    samples: int = 0

    def write(self, frame: av.AudioFrame | None) -> list[av.AudioFrame]:
        """Resample `frame` (None: flush) and encode whole encoder frames; the resampled
        frames are returned for the analysis."""
        resampled = self.resampler.resample(frame)
        for out in resampled:
            self.fifo.write(out)
        while (block := self.fifo.read(self.frame_size)) is not None:
            self._encode(block)
        if frame is None and self.fifo.samples:
            # The encoders accept a short last frame; a resampler with frame_size drops it.
            last = self.fifo.read(self.fifo.samples)
            if last is not None:
                self._encode(last)
        return resampled

    def _encode(self, block: av.AudioFrame) -> None:
        block.pts = self.samples
        block.time_base = self.time_base
        self.samples += block.samples
        self.container.mux(self.stream.encode(block))

    def finish(self) -> list[av.AudioFrame]:
        tail = self.write(None)
        self.container.mux(self.stream.encode(None))
        self.container.close()
        return tail


def _open_output(
    name: str,
    path: Path,
    codec: str,
    fmt: str,
    rate: int,
    layout: str,
    bitrate: int,
    codec_options: dict[str, str],
) -> _Output:
    options = {"movflags": "+faststart"} if fmt == "mp4" else {}
    container = av.open(str(path), mode="w", format=fmt, container_options=options)
    stream = container.add_stream(codec, rate=rate, layout=layout, options=codec_options)
    if not isinstance(stream, av.AudioStream):  # add_stream's type is the union of kinds
        raise TypeError(f"{codec} did not open an audio stream")
    stream.bit_rate = bitrate
    sample_format = "fltp" if codec == "aac" else "flt"
    frame_size = 1024 if codec == "aac" else 960
    resampler = av.AudioResampler(format=sample_format, layout=layout, rate=rate)
    return _Output(name, path, container, stream, resampler, frame_size, Fraction(1, rate))


@dataclass
class _Analysis:
    """Duration-independent measurements fed ~1.5 s of AAC-rate float samples at a time.

    Frames are copied plane by plane into one preallocated buffer (no per-frame arrays,
    no concatenation); the meters copy what they keep, so the buffer is reused.
    """

    rate: int
    channels: int
    peaks: PeakAccumulator = field(default_factory=lambda: PeakAccumulator(PEAK_POINTS))

    def __post_init__(self) -> None:
        self.loudness = LoudnessMeter(self.rate, self.channels)
        self.true_peak = TruePeakMeter(self.channels)
        self._buffer = np.empty((self.channels, ANALYSIS_CHUNK), dtype=np.float32)
        self._filled = 0

    def add(self, frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            self._add(frame)

    def _add(self, frame: av.AudioFrame) -> None:
        count = frame.samples
        # fltp from the AAC resampler: one plane per channel, possibly padded past `count`
        planes = [
            np.frombuffer(memoryview(plane), dtype=np.float32, count=count)
            for plane in frame.planes[: self.channels]
        ]
        start = 0
        while start < count:
            take = min(count - start, ANALYSIS_CHUNK - self._filled)
            for channel, plane in enumerate(planes):
                self._buffer[channel, self._filled : self._filled + take] = plane[
                    start : start + take
                ]
            self._filled += take
            start += take
            if self._filled == ANALYSIS_CHUNK:
                self.flush()

    def flush(self) -> None:
        if not self._filled:
            return
        chunk = self._buffer[:, : self._filled]
        self.peaks.add(chunk)
        self.loudness.add(chunk)
        self.true_peak.add(chunk)
        self._filled = 0


def _claimed_seconds(
    source: Path, container: av.container.InputContainer, stream: av.AudioStream
) -> float:
    """The longest duration the file's headers claim, 0.0 when none does.

    FFmpeg clamps some claims to the bytes present (a WAV's data chunk size, for one), so
    the header is also read by mutagen, which reports what the file says it holds.
    """
    claims = [0.0]
    if stream.duration is not None and stream.time_base is not None:
        claims.append(float(stream.duration * stream.time_base))
    elif container.duration is not None:
        claims.append(container.duration / av.time_base)
    try:
        tagged = mutagen.File(str(source))
        length = getattr(getattr(tagged, "info", None), "length", None)
    except Exception:  # mutagen raises many kinds on odd files; the claim is only a hint
        length = None
    if isinstance(length, (int, float)) and math.isfinite(length):
        claims.append(float(length))
    return max(claims)


@contextlib.contextmanager
def _input(source: Path) -> Iterator[tuple[av.container.InputContainer, av.AudioStream]]:
    try:
        container = av.open(str(source), mode="r")
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise MediaRejected("The file is not audio we can read (no known format).") from exc
    try:
        if not container.streams.audio:
            raise MediaRejected("The file has no audio stream.")
        stream = container.streams.audio[0]
        if not stream.codec_context.sample_rate or not stream.codec_context.channels:
            raise MediaRejected("The audio stream has no sample rate or channels.")
        yield container, stream
    finally:
        container.close()


def process_audio(source: Path, workdir: Path, limits: MediaLimits = DEFAULT_LIMITS) -> AudioResult:
    """Write `workdir/audio.webm` (Opus) and `workdir/audio.m4a` (AAC) or raise
    MediaRejected, in which case nothing is left in `workdir` under those names."""
    workdir.mkdir(parents=True, exist_ok=True)
    final = {"opus": workdir / "audio.webm", "aac": workdir / "audio.m4a"}
    partial = {name: path.with_name(path.name + ".part") for name, path in final.items()}
    outputs: list[_Output] = []
    try:
        with _input(source) as (container, stream):
            source_rate = stream.codec_context.sample_rate
            channels = min(2, stream.codec_context.channels)
            layout = "stereo" if channels == 2 else "mono"
            rate = aac_rate(source_rate)
            claimed = _claimed_seconds(source, container, stream)
            if claimed > limits.max_duration_seconds:
                raise MediaRejected(
                    f"The audio is {claimed:.0f} s long; at most "
                    f"{limits.max_duration_seconds:.0f} s is accepted."
                )
            outputs.append(
                _open_output(
                    "opus",
                    partial["opus"],
                    "libopus",
                    "webm",
                    OPUS_RATE,
                    layout,
                    OPUS_BITRATE,
                    OPUS_OPTIONS,
                )
            )
            outputs.append(
                _open_output(
                    "aac", partial["aac"], "aac", "mp4", rate, layout, AAC_BITRATE, AAC_OPTIONS
                )
            )
            opus, aac = outputs
            analysis = _Analysis(rate, channels)
            decoded = _decode(container, stream, limits, source_rate, opus, aac, analysis)
            opus.finish()
            analysis.add(aac.finish())
            analysis.flush()
        duration = decoded / source_rate
        if decoded == 0:
            raise MediaRejected("The file contains no decodable audio.")
        if claimed > 1.0 and duration < TRUNCATION_TOLERANCE * claimed:
            raise MediaRejected(
                f"The file is cut off: its header says {claimed:.1f} s but only "
                f"{duration:.1f} s of audio could be decoded."
            )
        for name in ("opus", "aac"):
            partial[name].replace(final[name])
    except BaseException:
        for out in outputs:
            with contextlib.suppress(Exception):
                out.container.close()
        for path in (*partial.values(), *final.values()):
            path.unlink(missing_ok=True)
        raise
    lufs = analysis.loudness.integrated()
    return AudioResult(
        duration_seconds=duration,
        sample_rate=rate,
        channels=channels,
        integrated_lufs=None if lufs is None else round(lufs, 2),
        true_peak_dbtp=_rounded(analysis.true_peak.dbtp()),
        peaks=analysis.peaks.result(duration),
        renditions=[
            Rendition(final["opus"], "opus", "audio/webm", "opus", OPUS_BITRATE),
            Rendition(final["aac"], "aac", "audio/mp4", "mp4a.40.2", AAC_BITRATE),
        ],
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 2)


def _decode(
    container: av.container.InputContainer,
    stream: av.AudioStream,
    limits: MediaLimits,
    source_rate: int,
    opus: _Output,
    aac: _Output,
    analysis: _Analysis,
) -> int:
    """Decode every frame into both renditions and the analysis; return the sample count."""
    max_samples = limits.max_duration_seconds * source_rate
    decoded = 0
    decoded_bytes = 0
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                decoded += frame.samples
                decoded_bytes += frame.samples * len(frame.layout.channels) * 4
                if decoded > max_samples:
                    raise MediaRejected(
                        f"The audio is longer than the {limits.max_duration_seconds:.0f} s "
                        "accepted."
                    )
                if decoded_bytes > limits.max_decoded_bytes:
                    raise MediaRejected("The audio decodes to more data than we accept.")
                frame.pts = None
                opus.write(frame)
                analysis.add(aac.write(frame))
    except av.FFmpegError as exc:
        if decoded == 0:
            raise MediaRejected("The audio could not be decoded.") from exc
        raise MediaRejected(
            f"The audio stops decoding after {decoded / source_rate:.1f} s: the file is "
            "damaged or cut off."
        ) from exc
    return decoded
