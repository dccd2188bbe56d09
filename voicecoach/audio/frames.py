"""The audio contract: 16 kHz mono int16 frames from an AudioSource, utterances cut from them, resampling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol

import numpy as np
import soxr

SAMPLE_RATE = 16000
FRAME_MS = 30
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 480


class AudioSource(Protocol):
    """Yields consecutive 16 kHz mono int16 frames of FRAME_SAMPLES samples (the last may be shorter)."""

    def frames(self) -> Iterator[np.ndarray]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Utterance:
    """A stretch of speech: its samples (16 kHz mono int16) and where it lies in the stream, in seconds."""

    samples: np.ndarray
    start: float
    end: float

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    def pcm(self) -> bytes:
        return self.samples.astype("<i2", copy=False).tobytes()


def to_mono_float(samples: np.ndarray) -> np.ndarray:
    """(n,) or (n, channels) samples of any numeric dtype → (n,) float32 in -1..1, channels averaged."""
    data = np.asarray(samples)
    if data.dtype.kind == "i":
        scale = float(2 ** (8 * data.dtype.itemsize - 1))
        data = data.astype(np.float32) / scale
    elif data.dtype.kind == "u":  # 8-bit WAV is unsigned, centred on 128
        half = float(2 ** (8 * data.dtype.itemsize - 1))
        data = (data.astype(np.float32) - half) / half
    else:
        data = data.astype(np.float32)
    if data.ndim == 2:
        data = data.mean(axis=1)
    return data


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    return (np.clip(samples, -1.0, 1.0 - 1 / 32768) * 32768).astype(np.int16)


def resample_to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Any-rate, any-channel samples → 16 kHz mono int16 (soxr, high quality)."""
    mono = to_mono_float(samples)
    if rate != SAMPLE_RATE and len(mono):
        mono = soxr.resample(mono, rate, SAMPLE_RATE, quality="HQ")
    return float_to_int16(mono)


def split_frames(samples: np.ndarray, size: int = FRAME_SAMPLES) -> Iterator[np.ndarray]:
    for start in range(0, len(samples), size):
        yield samples[start:start + size]
