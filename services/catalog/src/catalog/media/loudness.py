"""ITU-R BS.1770-4 integrated loudness and true peak, measured as the signal streams by.

pyloudnorm computes the same figures but wants the whole signal in memory (a 60-minute
stereo file is ~1.4 GB of float64); here the K-weighting filters keep their state between
chunks, only one energy figure per 100 ms step is kept (36,000 floats for an hour), and the
400 ms gated blocks (75 % overlap) are formed from those steps at the end.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import signal

Samples = npt.NDArray[np.float32]


def k_weighting(rate: int) -> npt.NDArray[np.float64]:
    """The two K-weighting biquads (shelf, then high-pass) as second-order sections.

    Designed from the analogue prototype as libebur128 does, which reproduces the
    coefficients BS.1770 tabulates for 48 kHz exactly and holds at other rates.
    """
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / rate)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / rate)
    a0 = 1.0 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf, highpass], dtype=np.float64)


class LoudnessMeter:
    """Integrated loudness (LUFS) over channels weighted 1.0 (mono, stereo: L, R)."""

    def __init__(self, rate: int, channels: int) -> None:
        self.sos = k_weighting(rate)
        self.zi = np.zeros((self.sos.shape[0], channels, 2), dtype=np.float64)
        self.step = max(1, round(rate * 0.1))
        self._pending = np.zeros((channels, 0), dtype=np.float64)
        self._step_energy: list[npt.NDArray[np.float64]] = []

    def add(self, chunk: Samples) -> None:
        weighted, self.zi = signal.sosfilt(self.sos, chunk, axis=1, zi=self.zi)
        weighted = np.concatenate([self._pending, weighted], axis=1)
        whole = (weighted.shape[1] // self.step) * self.step
        if whole:
            squares = np.square(weighted[:, :whole]).sum(axis=0)
            self._step_energy.append(squares.reshape(-1, self.step).sum(axis=1))
        self._pending = weighted[:, whole:]

    def integrated(self) -> float | None:
        """None when there is no gated block: under 400 ms, or silence below -70 LUFS."""
        if not self._step_energy:
            return None
        steps = np.concatenate(self._step_energy)
        if steps.shape[0] < 4:
            return None
        blocks = np.convolve(steps, np.ones(4), mode="valid") / (4 * self.step)
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10.0 * np.log10(blocks)
        absolute = blocks[block_lufs > -70.0]
        if absolute.shape[0] == 0:
            return None
        relative_gate = -0.691 + 10.0 * math.log10(float(absolute.mean())) - 10.0
        gated = blocks[(block_lufs > -70.0) & (block_lufs > relative_gate)]
        return -0.691 + 10.0 * math.log10(float(gated.mean()))


class TruePeakMeter:
    """Maximum of the 4x oversampled signal (BS.1770-4 Annex 2), chunk by chunk.

    The interpolator is a 48-tap windowed-sinc low-pass at the original Nyquist; each chunk
    is filtered with the last 12 input samples of the one before, so no interpolated value
    is lost at a chunk boundary. A chunk whose largest sample times the interpolator's
    largest phase gain cannot beat the peak so far is skipped, which is exact. The filter
    runs in float32 (half the memory traffic of float64; its rounding, ~1e-7 of full scale,
    is far below the 0.01 dB the figure is stored with).
    """

    TAPS = 48
    FACTOR = 4

    def __init__(self, channels: int) -> None:
        taps = signal.firwin(self.TAPS, 1.0 / self.FACTOR) * self.FACTOR
        self.h = taps.astype(np.float32)
        self.max_gain = float(max(np.abs(taps[p :: self.FACTOR]).sum() for p in range(self.FACTOR)))
        self.history = self.TAPS // self.FACTOR
        self._tail = np.zeros((channels, self.history), dtype=np.float32)
        self.peak = 0.0

    def add(self, chunk: Samples) -> None:
        if chunk.shape[1] == 0:
            return
        sample_peak = max(float(chunk.max()), -float(chunk.min()))
        self.peak = max(self.peak, sample_peak)
        window = np.concatenate([self._tail, chunk.astype(np.float32, copy=False)], axis=1)
        tail_peak = max(float(self._tail.max()), -float(self._tail.min()))
        reach = max(sample_peak, tail_peak) * self.max_gain
        self._tail = window[:, -self.history :]
        if reach <= self.peak:
            return
        upsampled = signal.upfirdn(self.h, window, up=self.FACTOR, axis=1)
        full = upsampled[:, self.TAPS - 1 : self.FACTOR * window.shape[1]]
        if full.size:
            self.peak = max(self.peak, float(full.max()), -float(full.min()))

    def dbtp(self) -> float | None:
        return 20.0 * math.log10(self.peak) if self.peak > 0 else None
