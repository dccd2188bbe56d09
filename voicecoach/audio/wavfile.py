"""WAV files as an audio source: any rate, 8/16/24/32-bit integer or 32/64-bit float, any channel count.

Python's `wave` module rejects WAVE_FORMAT_EXTENSIBLE and float files (both common: sox writes
extensible headers for 24-bit), so the RIFF chunks are read here directly.
"""

from __future__ import annotations

import os
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from voicecoach.audio.frames import (FRAME_SAMPLES, SAMPLE_RATE, float_to_int16, resample_to_16k, split_frames,
                                     to_mono_float)
from voicecoach.errors import VoicecoachError

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


@dataclass(frozen=True)
class WavInfo:
    rate: int
    channels: int
    bits: int
    is_float: bool
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.rate


def _bad(path: Path, why: str) -> VoicecoachError:
    return VoicecoachError(f"{path}: not a readable WAV file ({why})",
                           "convert it with: sox INPUT -r 16000 -c 1 -b 16 OUTPUT.wav")


def _decode(path: Path, raw: bytes) -> tuple[WavInfo, np.ndarray]:
    if len(raw) < 12 or raw[:4] not in (b"RIFF", b"RIFX") or raw[8:12] != b"WAVE":
        raise _bad(path, "no RIFF/WAVE header")
    if raw[:4] == b"RIFX":
        raise _bad(path, "big-endian RIFX is not supported")
    fmt: tuple[int, int, int, int] | None = None
    data: bytes | None = None
    pos = 12
    while pos + 8 <= len(raw):
        chunk_id, size = raw[pos:pos + 4], struct.unpack_from("<I", raw, pos + 4)[0]
        body = raw[pos + 8:pos + 8 + size]
        if chunk_id == b"fmt ":
            if len(body) < 16:
                raise _bad(path, "short fmt chunk")
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
            if tag == _EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack_from("<H", body, 24)[0]  # first two bytes of the subformat GUID
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            data = body  # a truncated file keeps what was written
        pos += 8 + size + (size & 1)
    if fmt is None or data is None:
        raise _bad(path, "missing fmt or data chunk")
    tag, channels, rate, bits = fmt
    if channels < 1 or rate < 1000:
        raise _bad(path, f"{channels} channels at {rate} Hz")
    width = bits // 8
    usable = len(data) - len(data) % (width * channels)
    data = data[:usable]
    if tag == _PCM and bits == 8:
        samples = np.frombuffer(data, np.uint8)
    elif tag == _PCM and bits == 16:
        samples = np.frombuffer(data, "<i2")
    elif tag == _PCM and bits == 24:
        bytes3 = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.uint32)
        # place the 3 bytes in the top of a 32-bit word: full-scale int32, sign included
        samples = ((bytes3[:, 0] << 8) | (bytes3[:, 1] << 16) | (bytes3[:, 2] << 24)).view(np.int32)
    elif tag == _PCM and bits == 32:
        samples = np.frombuffer(data, "<i4")
    elif tag == _FLOAT and bits in (32, 64):
        samples = np.frombuffer(data, "<f4" if bits == 32 else "<f8")
    else:
        raise _bad(path, f"unsupported sample format (format tag {tag}, {bits} bits)")
    samples = samples.reshape(-1, channels)
    info = WavInfo(rate, channels, bits, tag == _FLOAT, len(samples))
    return info, samples


def read_wav_info(path: str | Path) -> WavInfo:
    path = Path(path)
    return _decode(path, _read_bytes(path))[0]


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise VoicecoachError(f"{path}: no such file", "check the path") from None
    except IsADirectoryError:
        raise VoicecoachError(f"{path}: is a folder, not a WAV file", "give a .wav file") from None
    except OSError as error:
        raise VoicecoachError(f"{path}: cannot read ({error.strerror})", "check the file's permissions") from None


def _is_plain_16bit(info: WavInfo) -> bool:
    return info.channels == 1 and info.bits == 16 and not info.is_float


def read_wav(path: str | Path) -> np.ndarray:
    """The whole file as 16 kHz mono int16 samples (resampled and mixed down as needed)."""
    path = Path(path)
    info, samples = _decode(path, _read_bytes(path))
    if info.rate == SAMPLE_RATE and _is_plain_16bit(info):
        return samples[:, 0].copy()
    return resample_to_16k(samples, info.rate)


def read_wav_native(path: str | Path) -> tuple[np.ndarray, int]:
    """The whole file as mono int16 samples at the file's own rate, and that rate."""
    path = Path(path)
    info, samples = _decode(path, _read_bytes(path))
    if _is_plain_16bit(info):
        return samples[:, 0].copy(), info.rate
    return float_to_int16(to_mono_float(samples)), info.rate


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_mode()


def publish(temp: str | Path, path: Path) -> None:
    """Give a finished temporary file normal permissions and move it into place atomically."""
    os.chmod(temp, _FILE_MODE)
    os.replace(temp, path)


def write_wav(path: str | Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    """Write mono int16 (or float -1..1) samples as a 16-bit WAV; the file appears complete or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pcm = samples if samples.dtype == np.int16 else float_to_int16(samples)
    body = pcm.astype("<i2").tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(body)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, _PCM, 1, rate, rate * 2, 2, 16)
    header += b"data" + struct.pack("<I", len(body))
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(header + body)
        publish(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


class WavSource:
    """An AudioSource reading a WAV file; `realtime=True` paces frames at the speed of speech."""

    def __init__(self, path: str | Path, realtime: bool = False, frame_samples: int = FRAME_SAMPLES) -> None:
        self.path = Path(path)
        self.samples = read_wav(self.path)
        self.realtime = realtime
        self.frame_samples = frame_samples
        self._closed = False

    def frames(self) -> Iterator[np.ndarray]:
        started = time.monotonic()
        for index, frame in enumerate(split_frames(self.samples, self.frame_samples)):
            if self._closed:
                return
            if self.realtime:
                due = started + index * self.frame_samples / SAMPLE_RATE
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            yield frame

    def close(self) -> None:
        self._closed = True
