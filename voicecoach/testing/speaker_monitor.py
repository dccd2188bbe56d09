"""What the coach says on a private PulseAudio daemon (pulse.py), recorded from `spk.monitor` with each
moment of the monotonic clock mapped to a sample: when the coach's voice starts, ends and falls quiet. For
tests and benchmarks over real audio devices."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

LOUD = 500  # sample level that counts as audible on the null sink
RATE = 16000


class Monitor:
    """Records spk.monitor; maps any monotonic time to a sample of the recording.

    parec may connect late (a busy start-up) and writes in bursts, so the moment the recording started is
    estimated from the file itself: at time t with n samples written, it started no later than t - n/RATE;
    the smallest such bound over all reads is the estimate."""

    def __init__(self, pulse, path: Path, source: str = "spk.monitor") -> None:
        self.recording = pulse.start_recording(path, source=source)
        self.started = float("inf")
        while len(self.samples()) < RATE // 2:  # half a second recorded: the estimate is settled
            time.sleep(0.02)

    def samples(self) -> np.ndarray:
        data = self.recording.samples()
        read_at = time.monotonic()  # after the read: every sample counted was written by now
        if len(data):
            self.started = min(self.started, read_at - len(data) / RATE)
        return data

    def first_sound_after(self, moment: float, timeout: float) -> float | None:
        """The first audible sample within `timeout` seconds after `moment` (parec may write late on a busy
        machine: the recording is waited for until it covers the whole window)."""
        deadline = time.monotonic() + timeout
        while True:
            data = self.samples()
            start = max(0, int((moment - self.started) * RATE))
            end = int((moment + timeout - self.started) * RATE)
            loud = np.flatnonzero(np.abs(data[start:end].astype(np.int32)) > LOUD)
            if len(loud):
                return self.started + (start + loud[0]) / RATE
            if time.monotonic() >= deadline and len(data) >= end:
                return None
            if time.monotonic() >= deadline + 15:
                return None
            time.sleep(0.05)

    def last_sound_between(self, start: float, end: float) -> float | None:
        """The moment of the last audible sample recorded between two moments (the end of words)."""
        self.wait_covered(end)
        data = self.samples()
        first, last = (max(0, int((moment - self.started) * RATE)) for moment in (start, end))
        loud = np.flatnonzero(np.abs(data[first:last].astype(np.int32)) > LOUD)
        return None if not len(loud) else self.started + (first + loud[-1] + 1) / RATE

    def wait_covered(self, moment: float, timeout: float = 15.0) -> None:
        """Wait until the recording (written with some delay by parec) reaches `moment`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.samples()) < (moment - self.started) * RATE:
            time.sleep(0.05)

    def quiet_since(self, seconds: float) -> bool:
        data = self.samples()
        tail = data[-int(seconds * RATE):]
        return len(tail) >= int(seconds * RATE) * 0.9 and not np.any(np.abs(tail.astype(np.int32)) > LOUD)

    def wait_quiet(self, seconds: float = 0.8, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.quiet_since(seconds):
            time.sleep(0.1)
