"""AudioClip: mono 16-bit speech audio as a value, with resampling; WAV files through audio.wavfile."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from voicecoach.audio.wavfile import read_wav_native
from voicecoach.audio.wavfile import write_wav as write_wav_samples


@dataclass(frozen=True, eq=False)
class AudioClip:
    """Mono int16 samples at `sample_rate` Hz (the array is read-only)."""

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        samples = np.ascontiguousarray(self.samples, dtype=np.int16).reshape(-1)
        samples.flags.writeable = False
        object.__setattr__(self, "samples", samples)

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate

    @classmethod
    def silence(cls, seconds: float, sample_rate: int) -> AudioClip:
        return cls(np.zeros(max(0, round(seconds * sample_rate)), dtype=np.int16), sample_rate)

    def resampled(self, sample_rate: int) -> AudioClip:
        """This clip at another rate (soxr, high quality)."""
        if sample_rate == self.sample_rate or len(self.samples) == 0:
            return AudioClip(self.samples, sample_rate) if len(self.samples) == 0 else self
        import soxr

        converted = soxr.resample(self.samples.astype(np.float32) / 32768.0, self.sample_rate, sample_rate)
        return AudioClip(np.clip(np.round(converted * 32768.0), -32768, 32767).astype(np.int16), sample_rate)


def join_clips(clips: Iterable[AudioClip], gap: float = 0.0, sample_rate: int | None = None) -> AudioClip:
    """The clips one after another with `gap` seconds of silence between them, at one sample rate."""
    clips = list(clips)
    rate = sample_rate or (clips[0].sample_rate if clips else 22050)
    parts: list[np.ndarray] = []
    pause = np.zeros(round(gap * rate), dtype=np.int16)
    for index, clip in enumerate(clips):
        if index and len(pause):
            parts.append(pause)
        parts.append(clip.resampled(rate).samples)
    return AudioClip(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16), rate)


def read_wav(path: str | Path) -> AudioClip:
    """A WAV file as a mono clip at its own rate (any width; channels are mixed down)."""
    samples, rate = read_wav_native(path)
    return AudioClip(samples, rate)


def write_wav(path: str | Path, clip: AudioClip) -> Path:
    """Write `clip` as a 16-bit mono WAV; the file appears complete or not at all."""
    return write_wav_samples(path, clip.samples, clip.sample_rate)
