"""Signal measurements shared by the voice tests (imported by name: tests are not a package)."""

from __future__ import annotations

import numpy as np

COMMANDS = ("next step", "go back", "repeat that", "pause", "explain listening", "start over")


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0


def loud_span(samples: np.ndarray, sample_rate: int, fraction: float = 0.05) -> tuple[float, float]:
    """(first, last) time in seconds of a sample above `fraction` of the peak."""
    magnitude = np.abs(samples.astype(np.int32))
    loud = np.flatnonzero(magnitude > fraction * magnitude.max())
    return loud[0] / sample_rate, (loud[-1] + 1) / sample_rate
