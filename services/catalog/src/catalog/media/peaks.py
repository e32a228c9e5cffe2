"""Waveform envelope accumulated while decoding, when the total length is not yet known.

Samples go into fine bins of `bin_samples`; whenever the bins exceed `max_bins` the bin
width doubles (pairs merge), so memory stays flat whatever the duration and every one of
the final points still covers at least `max_bins / 2 / points` fine bins.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from contracts.media import WaveformPeaks

Samples = npt.NDArray[np.float32]


class PeakAccumulator:
    def __init__(self, points: int = 1000, bin_samples: int = 16, max_bins: int = 1 << 16):
        self.points = points
        self.bin_samples = bin_samples
        self.max_bins = max_bins
        self._mins: list[npt.NDArray[np.float32]] = []
        self._maxs: list[npt.NDArray[np.float32]] = []
        self._bins = 0
        self._pending = np.zeros(0, dtype=np.float32)
        self._pending_min = np.zeros(0, dtype=np.float32)
        self.samples = 0

    def add(self, chunk: Samples) -> None:
        """`chunk` is (channels, n); the envelope spans every channel."""
        if chunk.shape[1] == 0:
            return
        self.samples += chunk.shape[1]
        hi = chunk.max(axis=0)
        lo = chunk.min(axis=0)
        hi = np.concatenate([self._pending, hi])
        lo = np.concatenate([self._pending_min, lo])
        whole = (hi.shape[0] // self.bin_samples) * self.bin_samples
        if whole:
            self._maxs.append(hi[:whole].reshape(-1, self.bin_samples).max(axis=1))
            self._mins.append(lo[:whole].reshape(-1, self.bin_samples).min(axis=1))
            self._bins += whole // self.bin_samples
        self._pending, self._pending_min = hi[whole:], lo[whole:]
        if self._bins > self.max_bins:
            self._coarsen()

    def _coarsen(self) -> None:
        maxs, mins = np.concatenate(self._maxs), np.concatenate(self._mins)
        even = (maxs.shape[0] // 2) * 2
        self._maxs = [maxs[:even].reshape(-1, 2).max(axis=1)]
        self._mins = [mins[:even].reshape(-1, 2).min(axis=1)]
        # An odd last bin goes back to pending so bins stay aligned to the doubled width.
        tail = self.bin_samples * (maxs.shape[0] - even)
        if tail:
            self._pending = np.concatenate([np.full(tail, maxs[-1], np.float32), self._pending])
            self._pending_min = np.concatenate(
                [np.full(tail, mins[-1], np.float32), self._pending_min]
            )
        self.bin_samples *= 2
        self._bins = even // 2

    def result(self, duration_seconds: float) -> WaveformPeaks:
        maxs = list(self._maxs)
        mins = list(self._mins)
        starts = np.arange(self._bins, dtype=np.int64) * self.bin_samples
        if self._pending.shape[0]:
            maxs.append(self._pending.max(keepdims=True))
            mins.append(self._pending_min.min(keepdims=True))
            starts = np.append(starts, self._bins * self.bin_samples)
        if not maxs or self.samples == 0:
            zeros = [0.0] * self.points
            return WaveformPeaks(
                points=self.points, duration_seconds=duration_seconds, min=zeros, max=zeros
            )
        hi, lo = np.concatenate(maxs), np.concatenate(mins)
        # Each fine bin lands in the point that holds its middle sample.
        middles = starts + np.minimum(self.bin_samples, self.samples - starts) // 2
        index = np.minimum(middles * self.points // self.samples, self.points - 1)
        out_hi = np.full(self.points, -np.inf, dtype=np.float64)
        out_lo = np.full(self.points, np.inf, dtype=np.float64)
        np.maximum.at(out_hi, index, hi)
        np.minimum.at(out_lo, index, lo)
        # Points narrower than a fine bin (very short files) borrow their neighbour's value.
        empty = ~np.isfinite(out_hi)
        if empty.any():
            filled = np.flatnonzero(~empty)
            nearest = filled[
                np.clip(np.searchsorted(filled, np.flatnonzero(empty)), 0, len(filled) - 1)
            ]
            out_hi[empty], out_lo[empty] = out_hi[nearest], out_lo[nearest]
        return WaveformPeaks(
            points=self.points,
            duration_seconds=duration_seconds,
            min=[round(v, 4) for v in np.clip(out_lo, -1.0, 1.0).tolist()],
            max=[round(v, 4) for v in np.clip(out_hi, -1.0, 1.0).tolist()],
        )
