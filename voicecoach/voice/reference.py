"""PlaybackHistory: the samples a speaker actually sent to the output, with the time each block was due
at the device (time.monotonic()). The live loop reads it to recognise its own voice in the microphone."""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from voicecoach.voice.clip import AudioClip

OLDEST_SLACK_S = 1.0  # blocks are in time order but for small clock resyncs; older than this cannot overlap


class PlaybackHistory:
    """A bounded record of played blocks; written by the audio callback, read from any thread."""

    def __init__(self, sample_rate: int, keep_seconds: float = 30.0) -> None:
        self.sample_rate = sample_rate
        self._keep = keep_seconds
        self._blocks: deque[tuple[float, np.ndarray]] = deque()
        self._lock = threading.Lock()

    def add(self, due_at: float, samples: np.ndarray) -> None:
        """Record `samples` (int16) whose first sample is heard at `due_at`."""
        block = (due_at, samples.copy())
        with self._lock:
            self._blocks.append(block)
            while self._blocks and self._blocks[0][0] < due_at - self._keep:
                self._blocks.popleft()

    def segment(self, start: float, end: float) -> AudioClip:
        """What was heard between two monotonic times; silence where nothing was played."""
        count = max(0, round((end - start) * self.sample_rate))
        out = np.zeros(count, dtype=np.int16)
        with self._lock:  # newest first, stopping well before `start`: the echo canceller asks 33 times a second
            blocks = []
            for block in reversed(self._blocks):
                if block[0] + len(block[1]) / self.sample_rate < start - OLDEST_SLACK_S:
                    break
                blocks.append(block)
        for due_at, samples in blocks:
            offset = round((due_at - start) * self.sample_rate)
            if offset >= count or offset + len(samples) <= 0:
                continue
            lo, hi = max(0, offset), min(count, offset + len(samples))
            out[lo:hi] = samples[lo - offset:hi - offset]
        return AudioClip(out, self.sample_rate)

    def last_sound_at(self, threshold: int = 300) -> float | None:
        """When the last sample above `threshold` was due at the output (None if never)."""
        with self._lock:
            blocks = list(self._blocks)
        for due_at, samples in reversed(blocks):
            loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
            if len(loud):
                return due_at + (loud[-1] + 1) / self.sample_rate
        return None
