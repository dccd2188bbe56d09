"""Signal measurements shared by the voice tests (imported by name: tests are not a package)."""

from __future__ import annotations

import numpy as np

VOICE = "en_US-joe-medium"  # the Piper voice scripts/setup installs
COMMANDS = ("next step", "go back", "repeat that", "pause", "explain listening", "start over")


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if len(samples) else 0.0


def loud_span(samples: np.ndarray, sample_rate: int, fraction: float = 0.05) -> tuple[float, float]:
    """(first, last) time in seconds of a sample above `fraction` of the peak."""
    magnitude = np.abs(samples.astype(np.int32))
    loud = np.flatnonzero(magnitude > fraction * magnitude.max())
    return loud[0] / sample_rate, (loud[-1] + 1) / sample_rate


# Timing through a real device is measured again when the host was too busy to keep the 10 ms output
# buffer fed (an underrun, or a block delivered late). On a shared CI host such stalls come in bursts, so
# the attempts are spread out: a pause lets the burst pass instead of measuring three times inside it.
ATTEMPTS = 6
SETTLE_SECONDS = 1.5


def timing_attempts():
    """Attempt numbers 0..ATTEMPTS-1, pausing SETTLE_SECONDS before each attempt after the first."""
    import time

    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(SETTLE_SECONDS)
        yield attempt
