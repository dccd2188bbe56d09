"""The live status line: step, listening or speaking, a microphone level meter and what was heard.

Drawn in place on a terminal (stderr), at most ten times a second; silent when not a terminal or --quiet.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

import numpy as np

METER = " ▁▂▃▄▅▆▇█"
FLOOR_DBFS = -60.0


def level_meter(frame: np.ndarray, width: int = 8) -> str:
    """A bar for the frame's level: empty at -60 dBFS and below, full at 0 dBFS."""
    if len(frame) == 0:
        return " " * width
    rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2))) / 32768.0
    dbfs = 20 * np.log10(max(rms, 1e-9))
    filled = max(0.0, min(1.0, (dbfs - FLOOR_DBFS) / -FLOOR_DBFS)) * width
    full = int(filled)
    partial = METER[int((filled - full) * (len(METER) - 1))] if full < width else ""
    return (METER[-1] * full + partial).ljust(width)


class StatusLine:
    def __init__(self, stream: TextIO | None = None, enabled: bool = True, min_interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.min_interval = min_interval
        self._last_draw = 0.0
        self.step = ""
        self.mode = "starting"
        self.heard = ""
        self.meter = " " * 8

    def update(self, *, step: str | None = None, mode: str | None = None, heard: str | None = None,
               frame: np.ndarray | None = None, force: bool = False) -> None:
        if step is not None:
            self.step = step
        if mode is not None:
            self.mode = mode
        if heard is not None:
            self.heard = heard
        if frame is not None:
            self.meter = level_meter(frame)
        now = time.monotonic()
        if self.enabled and (force or now - self._last_draw >= self.min_interval):
            self._last_draw = now
            line = f"{self.step:>12} | {self.mode:<9} | mic {self.meter} | {self.heard}"
            self.stream.write("\r\x1b[K" + line[:160])
            self.stream.flush()

    def message(self, text: str) -> None:
        """A line of its own above the status line (what the coach said, a notice)."""
        if self.enabled:
            self.stream.write("\r\x1b[K")
        print(text, file=sys.stdout if not self.enabled else self.stream, flush=True)
        self.update(force=True)

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
