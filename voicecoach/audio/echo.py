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
    drift_s: float = 0.02  # how far a block's alignment may move from the previous block's
    jump_s: float = 0.3  # how far it is searched again when the near search leaves much (a gap in the audio)
    refit_share: float = 0.5  # a block fits when less than this share of its energy is left


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
    return int(np.argmax(_correlation(ref, mic)))


def _correlation(long: np.ndarray, short: np.ndarray) -> np.ndarray:
    """How well `short` matches `long` at each offset where it fits (at least one), through the FFT."""
    size = 1 << int(np.ceil(np.log2(len(long) + len(short))))
    full = np.fft.irfft(np.fft.rfft(long, size) * np.conj(np.fft.rfft(short, size)), size)
    return full[: max(1, len(long) - len(short) + 1)]


def subtract_echo(mic: np.ndarray, ref: np.ndarray, lag: int, settings: EchoSettings) -> np.ndarray:
    """`mic` minus our voice, block by block: each block finds its own lag and gain near the previous block's,
    which follows the small clock drift between playback and capture over a long utterance. A block the
    near search cannot explain is searched again over `jump_s`: a gap in playback or capture (an underrun,
    an overflow on a busy machine) moves the echo later or earlier at once, by tens of milliseconds."""
    block = int(settings.block_s * SAMPLE_RATE)
    near = int(settings.drift_s * SAMPLE_RATE)
    jump = int(settings.jump_s * SAMPLE_RATE)
    padded = np.concatenate([np.zeros(jump), ref, np.zeros(jump + len(mic))])
    residual = mic.copy()
    shift = 0  # how far the echo has moved from `lag` so far
    for start in range(0, len(mic), block):
        piece = mic[start:start + block]
        energy = float(np.dot(piece, piece))
        if energy == 0:
            continue
        base = jump + lag + start + shift  # where this block sits in `padded` with no further movement
        left, fit = _best_fit(piece, padded, base, near)
        if left > settings.refit_share * energy:
            wide_left, wide_fit = _best_fit(piece, padded, jump + lag + start, jump)
            if wide_left < 0.5 * left:
                left, fit = wide_left, wide_fit
        offset, residual_piece = fit
        if left < settings.refit_share * energy:
            shift = offset - (jump + lag + start)  # a good fit: the next block starts its search here
        residual[start:start + len(piece)] = residual_piece
    return residual


def _best_fit(piece: np.ndarray, padded: np.ndarray, centre: int, reach: int) -> tuple[float, tuple[int, np.ndarray]]:
    """The best-scaled copy of `padded` within `reach` samples of `centre`, subtracted from `piece`: the energy
    left, the copy's offset in `padded` and what is left."""
    lo = max(0, centre - reach)
    window = padded[lo: centre + reach + len(piece)]
    if len(window) < len(piece):
        return float(np.dot(piece, piece)), (centre, piece)
    long_search = reach > 4 * len(piece) ** 0.5  # then the FFT is the faster way
    scores = _correlation(window, piece) if long_search else np.correlate(window, piece, mode="valid")
    best = int(np.argmax(np.abs(scores)))
    aligned = window[best: best + len(piece)]
    power = float(np.dot(aligned, aligned))
    left_piece = piece - (float(np.dot(piece, aligned)) / power) * aligned if power > 0 else piece
    return float(np.dot(left_piece, left_piece)), (lo + best, left_piece)
