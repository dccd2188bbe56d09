"""The microphone as an audio source: a sounddevice raw input stream at a rate the device supports,
resampled to 16 kHz mono with soxr. Each frame can come with the time it was captured (for the echo
canceller, which pairs it with what the speaker was playing then).

sounddevice is imported lazily: PortAudio scans devices (and reads PULSE_SERVER) when it is loaded.
"""

from __future__ import annotations

import logging
import queue
import time
from types import ModuleType
from typing import Iterator

import numpy as np
import soxr

from voicecoach.audio.devices import (DeviceInfo, close_stream_quietly, describe_devices, find_device, list_devices,
                                      load_sounddevice)
from voicecoach.audio.frames import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE
from voicecoach.audio.events import RETRY_SECONDS, DeviceEvent, DeviceListener
from voicecoach.errors import DeviceError

log = logging.getLogger(__name__)

CANDIDATE_RATES = (16000, 48000, 44100, 32000, 22050, 8000)
START_TIMEOUT = 6.0  # seconds a new stream may take to deliver audio (PulseAudio's ALSA plugin: ~2 s)
STALL_TIMEOUT = 3.0  # seconds without audio from a running stream before the device counts as lost
RESYNC_SECONDS = 0.02  # frames whose capture times disagree by more than this start a new run of frames
CLOCK_RESTART_SECONDS = 0.5  # a block's measured capture time this far from the sample count restarts the count
# PortAudio delivers capture in blocks of BLOCK_MS at its "low" latency: a 30 ms block, at the default "high"
# latency, reached the loop about 10 ms later on average (through PulseAudio's ALSA plugin; bench/latency.py)
BLOCK_MS = 10
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
    falls behind by more than `max_queue_s`, the oldest audio is dropped (counted in `overruns`).

    If the device goes away (its stream stops, or no audio arrives for a while) it reports that to
    `on_event`, yields silence at the real-time pace (so the loop goes on: replies, saving) and tries to
    open the device again every `retry_s` seconds, reporting when it is back."""

    def __init__(self, device: str | int | None = None, max_queue_s: float = 5.0,
                 on_event: DeviceListener | None = None, retry_s: float = RETRY_SECONDS) -> None:
        self._spec = device
        self.device = resolve_input_device(device)
        self._sd = load_sounddevice()
        self.rate = _supported_rate(self._sd, self.device)
        self.overruns = 0
        self.input_overflows = 0  # blocks the device lost because this process was not scheduled in time
        self.on_event = on_event
        self.retry_s = retry_s
        self._queue: queue.Queue[tuple[float, bytes]] = queue.Queue(maxsize=max(4, int(max_queue_s * 1000 / BLOCK_MS)))
        self.last_captured_at: float | None = None  # when the latest frame handed out was captured (its first sample)
        self._closed = False
        self._stream = self._open()
        log.info("microphone %r at %d Hz", self.device.name, self.rate)

    def _open(self):
        """Open and start the input stream (DeviceError if the device cannot be opened)."""
        self._resampler = None if self.rate == SAMPLE_RATE else soxr.ResampleStream(
            self.rate, SAMPLE_RATE, 1, dtype="int16", quality="HQ")
        self._pending = np.zeros(0, np.int16)
        self._pending_at = 0.0  # when the first pending sample was captured
        self._next_at: float | None = None  # the capture clock: where the next block should start
        self._opened_at = time.monotonic()
        self._last_block_at: float | None = None
        stream = None
        try:
            stream = self._sd.RawInputStream(device=self.device.index, samplerate=self.rate, channels=1,
                                             dtype="int16", blocksize=max(1, self.rate * BLOCK_MS // 1000),
                                             latency="low", callback=self._callback)
            stream.start()
        except Exception as error:  # PortAudioError, or ValueError for a bad device
            if stream is not None:
                close_stream_quietly(stream)
            raise _no_device(f"cannot open input device {self.device.name!r}: {error}", list_devices()) from None
        return stream

    def _callback(self, data: bytes, frames: int, time_info, status) -> None:
        now = self._last_block_at = time.monotonic()
        if status.input_overflow:
            self.input_overflows += 1
        lag = time_info.currentTime - time_info.inputBufferAdcTime
        measured = now - (lag if 0 <= lag < 1.0 else frames / self.rate)
        item = (self._clock(measured, frames, bool(status.input_overflow)), bytes(data))
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.overruns += 1
            try:
                self._queue.get_nowait()
                self._queue.put_nowait(item)
            except (queue.Empty, queue.Full):
                pass

    def _clock(self, measured: float, frames: int, overflow: bool) -> float:
        """When this block's first sample was captured, counted in samples from the previous block.

        A busy process runs callbacks late (tens of milliseconds when the recognizer or the voice holds
        the CPU), which makes the measured time late too but never early: the count follows an earlier
        measurement quickly and a later one very slowly. It restarts from the measurement when samples
        were lost (an overflow) or the two are far apart (a stream restarted)."""
        expected = self._next_at
        if expected is None or overflow or abs(measured - expected) > CLOCK_RESTART_SECONDS:
            at = measured
        elif measured < expected:
            at = expected + 0.1 * (measured - expected)
        else:
            at = expected + 0.002 * (measured - expected)
        self._next_at = at + frames / self.rate
        return at

    def _convert(self, block: bytes) -> np.ndarray:
        samples = np.frombuffer(block, np.int16)
        if self._resampler is not None:
            samples = self._resampler.resample_chunk(samples)
        return samples

    def frames(self) -> Iterator[np.ndarray]:
        """16 kHz frames until `close()`; silence while the device is lost."""
        for frame, _ in self.timed_frames():
            yield frame

    def timed_frames(self) -> Iterator[tuple[np.ndarray, float]]:
        """Like `frames()`, each with the time.monotonic() at which its first sample was captured."""
        while not self._closed:
            try:
                captured_at, block = self._queue.get(timeout=0.5)
            except queue.Empty:
                problem = self._problem()
                if problem is not None and not self._closed:
                    for frame in self._recover(problem):
                        yield frame, time.monotonic() - FRAME_MS / 1000
                continue
            if not len(self._pending) or abs(captured_at - len(self._pending) / SAMPLE_RATE - self._pending_at) \
                    > RESYNC_SECONDS:
                self._pending_at = captured_at - len(self._pending) / SAMPLE_RATE
            self._pending = np.concatenate([self._pending, self._convert(block)])
            while len(self._pending) >= FRAME_SAMPLES:
                frame, self._pending = self._pending[:FRAME_SAMPLES], self._pending[FRAME_SAMPLES:]
                self.last_captured_at = self._pending_at
                yield frame, self._pending_at
                self._pending_at += FRAME_SAMPLES / SAMPLE_RATE

    def _problem(self) -> str | None:
        """Why the device seems gone, or None while it works (or is still starting)."""
        if not self._stream.active:
            return "its stream stopped"
        if self._last_block_at is None:
            silent_for, limit = time.monotonic() - self._opened_at, START_TIMEOUT
        else:
            silent_for, limit = time.monotonic() - self._last_block_at, STALL_TIMEOUT
        return f"no audio for {silent_for:.0f} s" if silent_for > limit else None

    def _recover(self, problem: str) -> Iterator[np.ndarray]:
        """Report the loss, yield silent frames in real time, and reopen every `retry_s` until it works."""
        log.warning("microphone %r lost: %s", self.device.name, problem)
        close_stream_quietly(self._stream)
        self._notify(False, problem)
        silence = np.zeros(FRAME_SAMPLES, np.int16)
        clock = time.monotonic()
        next_try = clock + self.retry_s
        while not self._closed:
            clock += FRAME_MS / 1000
            time.sleep(max(0.0, clock - time.monotonic()))
            yield silence
            if time.monotonic() < next_try:
                continue
            try:
                self.device = resolve_input_device(self._spec)
                self._stream = self._open()
            except DeviceError as error:
                log.info("microphone still unavailable: %s", error.message.splitlines()[0])
                next_try = time.monotonic() + self.retry_s
                continue
            while not self._queue.empty():  # audio from before the loss
                self._queue.get_nowait()
            log.warning("microphone %r is back", self.device.name)
            self._notify(True)
            return

    def _notify(self, available: bool, detail: str = "") -> None:
        if self.on_event is not None:
            self.on_event(DeviceEvent("microphone", available, self.device.name, detail))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            close_stream_quietly(self._stream)

    def __enter__(self) -> "MicrophoneSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
