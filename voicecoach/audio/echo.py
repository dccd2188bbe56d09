"""Keeping the coach's own voice from counting as a command.

We know exactly what we played (the speaker's playback history), so an utterance heard while the coach
speaks is compared with that signal: the best-aligned, best-scaled copy of it is subtracted, and when
little is left the utterance was only our own voice. What is left otherwise is the listener, cleaner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import logging

import numpy as np

from voicecoach.audio.frames import SAMPLE_RATE, Utterance, resample_to_16k

log = logging.getLogger(__name__)


class PlaybackReference(Protocol):
    """What was played and when (voicecoach.voice.reference.PlaybackHistory satisfies it)."""

    def segment(self, start: float, end: float):  # -> AudioClip with .samples and .sample_rate
        ...


@dataclass(frozen=True)
class EchoSettings:
    max_delay_s: float = 1.0  # how late our own voice may reach the microphone (output + input latency)
    residual_share: float = 0.2  # energy left after removing our voice below this share → only echo
    no_echo_share: float = 0.8  # above this, our voice is not really in the utterance
    block_s: float = 0.25  # alignment is refined per block of this length
    drift_s: float = 0.02  # how far a block's alignment may move from the utterance's


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
        residual = subtract_echo(mic, ref, global_lag(mic, ref), self.settings)
        share = float(np.dot(residual, residual)) / float(np.dot(mic, mic))
        log.debug("echo check: %.2f of the energy is not our own voice", share)
        if share < self.settings.residual_share:
            return None
        if share > self.settings.no_echo_share:
            return utterance.samples  # our voice is not in it: leave the listener's audio untouched
        return np.clip(residual, -32768, 32767).astype(np.int16)


def global_lag(mic: np.ndarray, ref: np.ndarray) -> int:
    """Where in `ref` the `mic` signal starts, by cross-correlation (FFT)."""
    size = 1 << int(np.ceil(np.log2(len(ref) + len(mic))))
    correlation = np.fft.irfft(np.fft.rfft(ref, size) * np.conj(np.fft.rfft(mic, size)), size)
    return int(np.argmax(correlation[: max(1, len(ref) - len(mic) + 1)]))


def subtract_echo(mic: np.ndarray, ref: np.ndarray, lag: int, settings: EchoSettings) -> np.ndarray:
    """`mic` minus our voice, block by block: each block finds its own lag near `lag` and its own gain,
    which follows the small clock drift between playback and capture over a long utterance."""
    block = int(settings.block_s * SAMPLE_RATE)
    search = int(settings.drift_s * SAMPLE_RATE)
    padded = np.concatenate([np.zeros(search), ref, np.zeros(search + len(mic))])
    residual = mic.copy()
    for start in range(0, len(mic), block):
        piece = mic[start:start + block]
        if not np.any(piece):
            continue
        base = lag + start  # where this block would sit in ref with no drift (offset by the padding)
        window = padded[base: base + len(piece) + 2 * search]
        scores = np.correlate(window, piece, mode="valid")
        best = int(np.argmax(np.abs(scores)))
        aligned = window[best: best + len(piece)]
        power = float(np.dot(aligned, aligned))
        if power > 0:
            residual[start:start + len(piece)] = piece - (float(np.dot(piece, aligned)) / power) * aligned
    return residual

