"""Keeping the coach's own voice from counting as a command.

We know exactly what we played (the speaker's playback history), so an utterance heard while the coach
speaks is compared with that signal: the best-aligned, best-scaled copy of it is subtracted, and when
little is left the utterance was only our own voice. What is left otherwise is the listener, cleaner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from voicecoach.audio.frames import SAMPLE_RATE, Utterance, resample_to_16k


class PlaybackReference(Protocol):
    """What was played and when (voicecoach.voice.reference.PlaybackHistory satisfies it)."""

    def segment(self, start: float, end: float):  # -> AudioClip with .samples and .sample_rate
        ...


@dataclass(frozen=True)
class EchoSettings:
    max_delay_s: float = 1.0  # how late our own voice may reach the microphone (output + input latency)
    residual_share: float = 0.25  # energy left after removing our voice below this share → only echo


class ReferenceEchoFilter:
    def __init__(self, reference: PlaybackReference, settings: EchoSettings | None = None) -> None:
        self.reference = reference
        self.settings = settings or EchoSettings()

    def clean(self, utterance: Utterance, heard_at: float) -> np.ndarray | None:
        """The utterance with our own voice removed, or None when nothing but our voice was heard.

        `heard_at` is the time.monotonic() at which the utterance's last sample was captured."""
        mic = utterance.samples.astype(np.float64)
        start = heard_at - utterance.duration - self.settings.max_delay_s
        clip = self.reference.segment(start, heard_at)
        if clip is None or len(clip.samples) == 0:
            return utterance.samples
        ref = resample_to_16k(np.asarray(clip.samples), clip.sample_rate).astype(np.float64)
        if not np.any(ref) or not np.any(mic):
            return utterance.samples
        aligned = _aligned(mic, ref)
        power = float(np.dot(aligned, aligned))
        if power == 0:
            return utterance.samples
        gain = float(np.dot(mic, aligned)) / power
        residual = mic - gain * aligned
        if float(np.dot(residual, residual)) < self.settings.residual_share * float(np.dot(mic, mic)):
            return None
        return np.clip(residual, -32768, 32767).astype(np.int16)


def _aligned(mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """The stretch of `ref` that best matches `mic` (cross-correlation by FFT), as long as `mic`."""
    if len(ref) < len(mic):
        ref = np.concatenate([np.zeros(len(mic) - len(ref)), ref])
    size = 1 << int(np.ceil(np.log2(len(ref) + len(mic))))
    correlation = np.fft.irfft(np.fft.rfft(ref, size) * np.conj(np.fft.rfft(mic, size)), size)
    lag = int(np.argmax(correlation[: len(ref) - len(mic) + 1]))
    return ref[lag: lag + len(mic)]
