"""Echo cancellation in the capture path: every microphone frame, before the endpointer and the
recognizer, has the coach's own voice removed by an adaptive canceller (WebRTC AEC3 from pywebrtc-audio)
fed with exactly what the speaker played at the moment the frame was captured.

The speaker's PlaybackHistory says when each block it played was due at the device; the microphone says
when each frame was captured (both on time.monotonic()). `FarEnd` turns the history into a continuous
16 kHz stream read at capture time; `DelayEstimator` measures how late the voice reaches the microphone
(a whitened cross-correlation) and hands it to the canceller as its delay hint. Without pywebrtc-audio
the loop runs as before, with a one-line notice (the comparison filter in echo.py stays as a backstop).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

import numpy as np
import soxr

from voicecoach.audio.frames import SAMPLE_RATE

log = logging.getLogger(__name__)

MODES = ("auto", "on", "off")
DEFAULT_DELAY_MS = 60  # the canceller's delay hint before one is measured (a laptop or USB speaker: 40-100 ms)
# Seconds of the coach's speech after which a canceller that found no echo to measure counts as settled: a real
# echo path is measured within about 3 s (a 3 s window, measured every second; bench/barge_in.py).
SETTLE_S = 8.0
INSTALL_HINT = ".venv/bin/pip install pywebrtc-audio"
PRIME_S = 0.05  # the far end's resampler is started this much before the first sample asked for
MIN_COHERENCE = 0.1  # correlation of the microphone with the lagged voice that counts as a measurement
ECHO_HEARD_DB = 10.0  # the canceller's output is used once it steadily removes this much (recent frames) ...
ECHO_GONE_DB = 3.0  # ... until it removes less than this
ECHO_STEADY_FRAMES = 10  # 300 ms
REPORT_EVERY = 333  # frames between debug reports (10 s)
FAR_END_QUALITY = "QQ"  # soxr's quick resampler keeps nothing back: the far end needs no audio from the future


class EchoCanceller(Protocol):
    """Removes the far-end signal (what was played) from the near-end one (what was heard): 16 kHz mono
    int16 arrays of equal length, best in multiples of 10 ms."""

    name: str

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray: ...

    def set_delay_ms(self, delay_ms: int) -> None: ...


class WebRtcEchoCanceller:
    """WebRTC's AEC3 (with its high-pass filter; noise suppression optional) through pywebrtc-audio."""

    name = "WebRTC AEC3"

    def __init__(self, delay_ms: int = DEFAULT_DELAY_MS, noise_suppression: bool = False) -> None:
        from pywebrtc_audio import AudioProcessor

        self._processor = AudioProcessor(sample_rate=SAMPLE_RATE, echo_cancellation=True,
                                         noise_suppression=noise_suppression, stream_delay_ms=int(delay_ms))

    def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        return self._processor.process(np.ascontiguousarray(near, np.int16), np.ascontiguousarray(far, np.int16))

    def set_delay_ms(self, delay_ms: int) -> None:
        self._processor.stream_delay_ms = int(delay_ms)


@dataclass(frozen=True)
class CancellerChoice:
    """What `--echo-cancel` gives on this machine, and why (said once at startup)."""

    mode: str  # what was asked: auto, on or off
    available: bool  # a canceller will run
    reason: str

    def describe(self) -> str:
        return f"echo cancellation: {self.reason}"

    def create(self, delay_ms: int = DEFAULT_DELAY_MS) -> EchoCanceller:
        return WebRtcEchoCanceller(delay_ms)


def choose_echo_canceller(mode: str = "auto") -> CancellerChoice:
    """`off`: none. `auto` and `on`: WebRTC AEC3 when pywebrtc-audio imports, else none with the reason
    (the coach still runs: `on` cannot make a missing library appear, so it says so louder)."""
    if mode not in MODES:
        raise ValueError(f"echo-cancel mode must be one of {MODES}, not {mode!r}")
    if mode == "off":
        return CancellerChoice(mode, False, "off (--echo-cancel off): only the comparison filter keeps the coach "
                                            "from hearing itself, so barge-in over a loudspeaker is unreliable")
    try:
        import pywebrtc_audio  # noqa: F401
    except ImportError as error:
        asked = "asked for but " if mode == "on" else ""
        return CancellerChoice(mode, False, f"{asked}unavailable (pywebrtc-audio: {error}); barge-in over a "
                                            f"loudspeaker is unreliable; install it with `{INSTALL_HINT}`")
    return CancellerChoice(mode, True, f"on ({WebRtcEchoCanceller.name}, pywebrtc-audio {_version()})")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("pywebrtc-audio")
    except Exception:  # a vendored or renamed copy: the version is only shown
        return "?"


class PlaybackReference(Protocol):
    """What was played and when (voicecoach.voice.reference.PlaybackHistory satisfies it)."""

    sample_rate: int

    def segment(self, start: float, end: float):  # -> AudioClip (.samples at .sample_rate)
        ...


class FarEnd:
    """What the speaker played, as one continuous 16 kHz stream read frame by frame at capture times.

    Consecutive reads continue the stream sample by sample (one resampler, no seams; every output sample
    has a fixed place on the clock, so a late block never shifts the rest); a capture time more than
    `resync_s` away from where the stream stands (a stall, a restarted device) starts it afresh. The
    resampler keeps back the last few milliseconds it was given (HQ: about 22 ms, QQ: none), so it is fed
    `lookahead_s` beyond the frame: what the speaker has not yet queued then reads as silence."""

    def __init__(self, playback: PlaybackReference, resync_s: float = 0.02, quality: str = FAR_END_QUALITY,
                 lookahead_s: float = 0.0) -> None:
        self.playback = playback
        self.resync_s = resync_s
        self.quality = quality
        self.lookahead_s = lookahead_s
        self.resyncs = 0
        self._next_at: float | None = None
        self._anchor_at = 0.0  # the time of output sample 0 (and of the first source sample fed)
        self._fed = 0  # source samples fed so far
        self._next_index = 0  # the next output sample to hand out
        self._fifo = np.zeros(0, np.int16)
        self._fifo_start = 0  # the output index of _fifo[0]
        self._resampler: soxr.ResampleStream | None = None

    def _restart(self, start_at: float) -> None:
        rate = self.playback.sample_rate
        resample = rate != SAMPLE_RATE
        self._resampler = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="int16", quality=self.quality) \
            if resample else None
        prime = PRIME_S if resample else 0.0  # the resampler's first output is filled from real audio
        self._anchor_at = start_at - prime
        self._fed = 0
        self._next_index = round(prime * SAMPLE_RATE)
        self._fifo = np.zeros(0, np.int16)
        self._fifo_start = 0

    def read(self, start_at: float, count: int) -> np.ndarray:
        """`count` samples at 16 kHz of what was due at the speaker from `start_at` on."""
        if self._next_at is None or abs(start_at - self._next_at) > self.resync_s:
            if self._next_at is not None:
                self.resyncs += 1
                log.debug("far end restarted: capture time moved by %.0f ms", 1000 * (start_at - self._next_at))
            self._restart(start_at)
        self._next_at = start_at + count / SAMPLE_RATE
        rate = self.playback.sample_rate
        first = self._next_index
        self._next_index += count
        until = self._anchor_at + self._next_index / SAMPLE_RATE + self.lookahead_s
        wanted = int(np.floor((until - self._anchor_at) * rate)) - self._fed
        if wanted > 0:
            begin = self._anchor_at + self._fed / rate
            samples = np.asarray(self.playback.segment(begin, begin + wanted / rate).samples, np.int16)[:wanted]
            if len(samples) < wanted:
                samples = np.concatenate([samples, np.zeros(wanted - len(samples), np.int16)])
            self._fed += wanted
            converted = samples if self._resampler is None else self._resampler.resample_chunk(samples)
            self._fifo = np.concatenate([self._fifo, converted])
        offset = first - self._fifo_start
        out = self._fifo[offset:offset + count]
        drop = min(len(self._fifo), offset + count)
        self._fifo, self._fifo_start = self._fifo[drop:], self._fifo_start + drop
        if len(out) < count:  # kept back by the resampler: silence here, the stream stays in place
            out = np.concatenate([out, np.zeros(count - len(out), np.int16)])
        return out


class DelayEstimator:
    """How late the played voice reaches the microphone, by whitened cross-correlation (GCC-PHAT) of the
    last few seconds, measured once a second while the speaker plays. None until a clear peak is seen."""

    def __init__(self, window_s: float = 3.0, every_s: float = 1.0, max_delay_s: float = 0.5,
                 min_far_dbfs: float = -45.0, min_clarity: float = 4.0) -> None:
        self.window = int(window_s * SAMPLE_RATE)
        self.every = int(every_s * SAMPLE_RATE)
        self.max_delay = int(max_delay_s * SAMPLE_RATE)
        self.min_far_dbfs = min_far_dbfs
        self.min_clarity = min_clarity
        self.delay_ms: int | None = None
        self.measurements: list[int] = []

        self._near = np.zeros(0, np.float32)
        self._far = np.zeros(0, np.float32)
        self._since = 0

    def add(self, near: np.ndarray, far: np.ndarray) -> int | None:
        """Feed raw microphone and far-end frames (aligned by capture time); a new estimate, or None."""
        self._near = np.concatenate([self._near, near.astype(np.float32)])[-self.window:]
        self._far = np.concatenate([self._far, far.astype(np.float32)])[-self.window:]
        self._since += len(near)
        if self._since < self.every or len(self._near) < self.window:
            return None
        self._since = 0
        if _dbfs(self._far) < self.min_far_dbfs or not np.any(self._near):
            return None
        lag = self._measure()
        if lag is None:
            return None
        self.measurements = (self.measurements + [lag])[-5:]
        estimate = int(np.median(self.measurements))
        if estimate != self.delay_ms:
            self.delay_ms = estimate
            return estimate
        return None

    def _measure(self) -> int | None:
        size = 1 << int(np.ceil(np.log2(2 * self.window)))
        cross = np.fft.rfft(self._near, size) * np.conj(np.fft.rfft(self._far, size))
        cross /= np.abs(cross) + 1e-9
        correlation = np.fft.irfft(cross, size)[: self.max_delay]  # near[t] ~ far[t - lag], lag >= 0
        magnitude = np.abs(correlation)
        peak = int(np.argmax(magnitude))
        floor = float(np.median(magnitude)) + 1e-12
        if magnitude[peak] / floor < self.min_clarity:
            return None
        # A whitened peak can come from chance alone: the played voice, moved by the lag, must also
        # explain a real part of what the microphone heard.
        near, far = self._near[peak:].astype(np.float64), self._far[: len(self._far) - peak].astype(np.float64)
        coherence = abs(float(np.dot(near, far))) / (float(np.linalg.norm(near) * np.linalg.norm(far)) + 1e-9)
        if coherence < MIN_COHERENCE:
            return None
        return round(peak * 1000 / SAMPLE_RATE)


def _dbfs(samples: np.ndarray) -> float:
    if not len(samples):
        return -120.0
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) / 32768.0
    return 20.0 * np.log10(max(rms, 1e-6))


@dataclass
class EchoStats:
    """How the canceller is doing: frames seen, echo removed while only the coach spoke, its CPU time."""

    frames: int = 0
    cpu_s: float = 0.0
    audio_s: float = 0.0
    far_active_s: float = 0.0  # seconds of frames in which the speaker played
    far_energy_in: float = 0.0  # microphone energy in frames where the speaker played (decays)
    far_energy_out: float = 0.0  # the same frames after cancellation

    @property
    def removed_db(self) -> float | None:
        if self.far_energy_in <= 0 or self.far_energy_out <= 0:
            return None
        return 10.0 * np.log10(self.far_energy_in / self.far_energy_out)

    @property
    def cpu_share(self) -> float:
        """CPU time per second of audio (0.05 = 5% of one core)."""
        return self.cpu_s / self.audio_s if self.audio_s else 0.0


class CaptureEchoCanceller:
    """The capture-path stage: `process(frame, captured_at)` → the frame without the coach's voice."""

    def __init__(self, canceller: EchoCanceller, playback: PlaybackReference,
                 estimator: DelayEstimator | None = None, far_active_dbfs: float = -50.0,
                 stats_decay: float = 0.999, far_end: FarEnd | None = None) -> None:
        self.canceller = canceller
        self.far_end = far_end if far_end is not None else FarEnd(playback)
        self.estimator = estimator if estimator is not None else DelayEstimator()
        self.far_active_dbfs = far_active_dbfs
        self.stats = EchoStats()
        self._decay = stats_decay
        self._recent_in = self._recent_out = 0.0  # for _echo_heard
        self._steady = 0
        self._using = False

    @property
    def delay_ms(self) -> int | None:
        return self.estimator.delay_ms

    @property
    def settled(self) -> bool:
        """Whether the canceller can be trusted with the coach's voice: the echo's delay is measured, or the
        speaker has played SETTLE_S without an echo to measure (headphones). Before that, what the microphone
        hears while the coach speaks may be the coach itself ("let's begin" once came back as "let's go ahead")."""
        return self.delay_ms is not None or self.stats.far_active_s >= SETTLE_S

    def process(self, frame: np.ndarray, captured_at: float) -> np.ndarray:
        started = time.process_time()
        near = np.asarray(frame, np.int16)
        far = self.far_end.read(captured_at, len(near))
        measured = self.estimator.add(near, far)
        if measured is not None:
            log.info("echo delay measured: %d ms", measured)
            self.canceller.set_delay_ms(measured)
        cancelled = self.canceller.process(near, far)
        out = cancelled if self._echo_heard(near, far, cancelled) else near
        self._account(near, far, out, time.process_time() - started)
        if self.stats.frames % REPORT_EVERY == 0:
            log.debug("%s; far end restarted %d times", summary(self), self.far_end.resyncs)
        return out

    def _echo_heard(self, near: np.ndarray, far: np.ndarray, cancelled: np.ndarray) -> bool:
        """Whether the canceller is removing an echo: over the last second or so of frames in which the
        speaker played, it took at least ECHO_HEARD_DB out, steadily (ECHO_STEADY_FRAMES in a row, so the
        first frames of a word, which AEC3 holds back, do not count). If not (headphones, a muted speaker,
        the first moments) its output is not used: with nothing to remove, AEC3 only dulls the listener."""
        if _dbfs(far) > self.far_active_dbfs:
            self._recent_in = 0.97 * self._recent_in + float(np.dot(near.astype(np.float64), near))
            self._recent_out = 0.97 * self._recent_out + float(np.dot(cancelled.astype(np.float64), cancelled))
        audible = self._recent_in >= len(near) * 100.0 ** 2 * 10  # the microphone hears something (> -60 dBFS)
        removing = audible and self._recent_in >= self._recent_out * 10 ** (ECHO_HEARD_DB / 10)
        self._steady = self._steady + 1 if removing else 0
        if self._steady >= ECHO_STEADY_FRAMES:
            self._using = True
        elif not audible or self._recent_in < self._recent_out * 10 ** (ECHO_GONE_DB / 10):
            self._using = False
        return self._using

    def _account(self, near: np.ndarray, far: np.ndarray, out: np.ndarray, cpu_s: float) -> None:
        stats = self.stats
        stats.frames += 1
        stats.cpu_s += cpu_s
        stats.audio_s += len(near) / SAMPLE_RATE
        if _dbfs(far) > self.far_active_dbfs:
            stats.far_active_s += len(near) / SAMPLE_RATE
            stats.far_energy_in = self._decay * stats.far_energy_in + float(np.dot(near.astype(np.float64), near))
            stats.far_energy_out = self._decay * stats.far_energy_out + float(np.dot(out.astype(np.float64), out))


class TimedSource(Protocol):
    """An audio source that also says when each frame's first sample was captured (time.monotonic())."""

    def timed_frames(self) -> Iterator[tuple[np.ndarray, float]]: ...

    def close(self) -> None: ...


class EchoCancellingSource:
    """An AudioSource: the frames of `source` with the coach's voice cancelled. Other attributes (overflow
    counts, the device) are the wrapped source's."""

    def __init__(self, source: TimedSource, stage: CaptureEchoCanceller,
                 on_frame: Callable[[np.ndarray, np.ndarray], None] | None = None) -> None:
        self.source = source
        self.stage = stage
        self.on_frame = on_frame  # (raw, cleaned): for recordings and benchmarks

    def frames(self) -> Iterator[np.ndarray]:
        for frame, captured_at in self.source.timed_frames():
            cleaned = self.stage.process(frame, captured_at)
            if self.on_frame is not None:
                self.on_frame(frame, cleaned)
            yield cleaned

    def close(self) -> None:
        self.source.close()

    def __getattr__(self, name: str):
        if name == "source":  # not set yet (copying, unpickling): never recurse
            raise AttributeError(name)
        return getattr(self.source, name)


def summary(stage: CaptureEchoCanceller) -> str:
    """One line for the end of a session: the measured delay, echo removed and CPU cost."""
    removed = stage.stats.removed_db
    delay = f"{stage.delay_ms} ms" if stage.delay_ms is not None else "not measured"
    shown = f"{removed:.0f} dB" if removed is not None else "n/a"
    return (f"echo cancellation: delay {delay}, echo removed {shown}, "
            f"CPU {100 * stage.stats.cpu_share:.1f}% of one core")
