"""AudioClip: mono 16-bit speech audio as a value, with WAV reading/writing (atomic) and resampling."""

from __future__ import annotations

import os
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np


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


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_mode()


def publish(temp: str | Path, path: Path) -> None:
    """Give a finished temporary file normal permissions and move it into place atomically."""
    os.chmod(temp, _FILE_MODE)
    os.replace(temp, path)


def read_wav(path: str | Path) -> AudioClip:
    """A 16-bit PCM WAV as a mono clip (stereo is averaged)."""
    with wave.open(str(path), "rb") as reader:
        if reader.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV is supported")
        frames = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
        channels = reader.getnchannels()
        rate = reader.getframerate()
    if channels > 1:
        frames = frames.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return AudioClip(frames, rate)


def write_wav(path: str | Path, clip: AudioClip) -> Path:
    """Write `clip` as a 16-bit mono WAV; the file appears complete or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as raw, wave.open(raw, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(clip.sample_rate)
            writer.writeframes(clip.samples.astype("<i2").tobytes())
        publish(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path
