"""What every benchmark hands back: figures with their targets, so `run_all.py` can print
one table for the whole run and each script can still print the same rows alone."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure. `met` is None when the figure has no target (context only)."""

    benchmark: str
    figure: str
    target: str = ""
    met: bool | None = None


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (the same rule as the asyncio client in loadgen.py)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(figures: Sequence[Figure]) -> str:
    lines = ["| benchmark | figure(s) | target | met? |", "|---|---|---|---|"]
    for f in figures:
        met = "" if f.met is None else ("yes" if f.met else "**no**")
        lines.append(f"| {f.benchmark} | {f.figure} | {f.target} | {met} |")
    return "\n".join(lines)
