"""Whisper's input: the 80-bin log-mel spectrogram of 16 kHz audio, in numpy.

The same arithmetic, step for step and dtype for dtype, as faster-whisper's FeatureExtractor (1.2.1) called
with padding=0 (a 400-sample periodic Hann window, hop 160, reflect-padded centred frames, the last frame
dropped, Slaney mel filters, log10 floored 8 below the maximum, scaled to about -1..1), so that the encoder
sees the same numbers without importing faster-whisper (and PyAV with it) into the recognizer process.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160
N_MELS = 80


@lru_cache(maxsize=None)
def mel_filters(n_mels: int = N_MELS) -> np.ndarray:
    """The Slaney-style mel filter bank [n_mels, N_FFT // 2 + 1] (librosa's, as Whisper uses it), float32."""
    fft_freqs = np.fft.rfftfreq(n=N_FFT, d=1.0 / SAMPLE_RATE)
    mels = np.linspace(0.0, 45.245640471924965, n_mels + 2)  # 0 Hz .. 8 kHz on the Slaney mel scale
    # linear below 1 kHz (200/3 Hz per mel), logarithmic above
    freqs = 200.0 / 3 * mels
    min_log_mel = 1000.0 / (200.0 / 3)
    log_region = mels >= min_log_mel
    freqs[log_region] = 1000.0 * np.exp(np.log(6.4) / 27.0 * (mels[log_region] - min_log_mel))
    spacing = np.diff(freqs)
    ramps = freqs.reshape(-1, 1) - fft_freqs.reshape(1, -1)
    lower = -ramps[:-2] / spacing[:-1, None]
    upper = ramps[2:] / spacing[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (freqs[2:n_mels + 2] - freqs[:n_mels]))[:, None]  # about constant energy per band
    return weights.astype(np.float32)


@lru_cache(maxsize=None)
def hann_window() -> np.ndarray:
    return np.hanning(N_FFT + 1)[:-1].astype(np.float32)


def log_mel(audio: np.ndarray, n_mels: int = N_MELS) -> np.ndarray:
    """The log-mel spectrogram [n_mels, len(audio) // HOP_LENGTH] of float audio in -1..1 at 16 kHz."""
    padded = np.pad(audio.astype(np.float32), N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_LENGTH]
    # [frames, bins] transposed to [bins, frames] as a view: the power spectrum keeps the memory layout
    # FeatureExtractor gives it, so the mel product below sums in the same order (bit-identical output)
    spectrum = np.fft.rfft(frames * hann_window(), axis=-1).T.astype(np.complex64)
    power = np.abs(spectrum[:, :-1]) ** 2
    log_spec = np.log10(np.clip(mel_filters(n_mels) @ power, a_min=1e-10, a_max=None))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    return (log_spec + 4.0) / 4.0
