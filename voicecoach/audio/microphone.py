"""The microphone as an audio source: a sounddevice raw input stream at a rate the device supports,
resampled to 16 kHz mono with soxr.

sounddevice is imported lazily: PortAudio scans devices (and reads PULSE_SERVER) when it is loaded.
"""

from __future__ import annotations

import logging
import queue
from types import ModuleType
from typing import Iterator

import numpy as np
import soxr

from voicecoach.audio.devices import DeviceInfo, describe_devices, find_device, list_devices, load_sounddevice
from voicecoach.audio.frames import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE
from voicecoach.errors import DeviceError

log = logging.getLogger(__name__)

CANDIDATE_RATES = (16000, 48000, 44100, 32000, 22050, 8000)
NO_MIC_HINT = "use `voicecoach chat` to type instead, or pick a device with --input-device NAME_OR_INDEX"


def _no_device(message: str, devices: list[DeviceInfo]) -> DeviceError:
    inputs = [d for d in devices if d.max_input_channels > 0]
    listing = describe_devices(inputs) if inputs else "  (no input devices found)"
    return DeviceError(f"{message}\ninput devices:\n{listing}", NO_MIC_HINT)


def resolve_input_device(spec: str | int | None) -> DeviceInfo:
    """The input device numbered or named (exact, then a fragment) by `spec`; None means the default."""
    devices = list_devices()
    inputs = [d for d in devices if d.max_input_channels > 0]
    chosen = find_device(spec, inputs, lambda d: d.default_input)
    if chosen is None:
        wanted = "no microphone (input device) found" if spec in (None, "") else f"no input device matches {spec!r}"
        raise _no_device(wanted, devices)
    return chosen


def _supported_rate(sd: ModuleType, device: DeviceInfo) -> int:
    rates = [*CANDIDATE_RATES]
    native = int(device.default_samplerate)
    if native and native not in rates:
        rates.insert(1, native)
    for rate in rates:
        try:
            sd.check_input_settings(device=device.index, samplerate=rate, channels=1, dtype="int16")
            return rate
        except Exception:  # PortAudio reports unsupported settings with various error types
            continue
    raise _no_device(f"input device {device.name!r} accepts none of the rates {rates}", list_devices())


class MicrophoneSource:
    """An AudioSource on a real input device. Frames arrive through a bounded queue; if the consumer
    falls behind by more than `max_queue_s`, the oldest audio is dropped (counted in `overruns`)."""

    def __init__(self, device: str | int | None = None, max_queue_s: float = 5.0) -> None:
        self.device = resolve_input_device(device)
        sd = load_sounddevice()
        self.rate = _supported_rate(sd, self.device)
        self.overruns = 0
        self.input_overflows = 0  # blocks the device lost because this process was not scheduled in time
        block = max(1, self.rate * FRAME_MS // 1000)
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=max(4, int(max_queue_s * 1000 / FRAME_MS)))
        self._resampler = None if self.rate == SAMPLE_RATE else soxr.ResampleStream(
            self.rate, SAMPLE_RATE, 1, dtype="int16", quality="HQ")
        self._pending = np.zeros(0, np.int16)
        self._closed = False
        try:
            self._stream = sd.RawInputStream(device=self.device.index, samplerate=self.rate, channels=1,
                                             dtype="int16", blocksize=block, callback=self._callback)
            self._stream.start()
        except Exception as error:  # PortAudioError, or ValueError for a bad device
            raise _no_device(f"cannot open input device {self.device.name!r}: {error}", list_devices()) from None
        log.info("microphone %r at %d Hz", self.device.name, self.rate)

    def _callback(self, data: bytes, frames: int, time_info: object, status) -> None:
        if status.input_overflow:
            self.input_overflows += 1
        try:
            self._queue.put_nowait(bytes(data))
        except queue.Full:
            self.overruns += 1
            try:
                self._queue.get_nowait()
                self._queue.put_nowait(bytes(data))
            except (queue.Empty, queue.Full):
                pass

    def _convert(self, block: bytes) -> np.ndarray:
        samples = np.frombuffer(block, np.int16)
        if self._resampler is not None:
            samples = self._resampler.resample_chunk(samples)
        return samples

    def frames(self) -> Iterator[np.ndarray]:
        """16 kHz frames until `close()` (or the stream stops)."""
        while not self._closed:
            try:
                block = self._queue.get(timeout=0.5)
            except queue.Empty:
                if not self._stream.active:
                    return
                continue
            self._pending = np.concatenate([self._pending, self._convert(block)])
            while len(self._pending) >= FRAME_SAMPLES:
                frame, self._pending = self._pending[:FRAME_SAMPLES], self._pending[FRAME_SAMPLES:]
                yield frame

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:  # closing a stream that already failed
                pass

    def __enter__(self) -> "MicrophoneSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
