"""A room you can reproduce, on files: the coach's voice goes out of a speaker, through a delay, a decaying
room response, a gain relative to the person and (optionally) the speaker's clipping, into the microphone
with a real person's command on top. `run_capture_path` then runs the live loop's own capture-path code
(PlaybackHistory → FarEnd → DelayEstimator → the canceller) on it, with the clocks a live session has.

Used by bench/barge_in.py (the WAV variant), tests/audio/test_echo_canceller.py and
tests/live/test_barge_in.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from voicecoach.audio.echo_canceller import CaptureEchoCanceller, EchoCanceller, FarEnd
from voicecoach.audio.frames import FRAME_SAMPLES, SAMPLE_RATE
from voicecoach.voice.reference import PlaybackHistory

SPEAKER_RATE = 22050  # the coach's voices play at 22.05 kHz: the far end is resampled as in a live session
SPEAKER_BLOCK = round(SPEAKER_RATE * 0.005)  # the speaker's 5 ms blocks


@dataclass(frozen=True)
class Room:
    delay_ms: float = 60.0  # output + acoustic + input latency
    decay_ms: float = 250.0  # length of the room response (to -60 dB)
    clip: float | None = None  # the speaker's clipping level (fraction of full scale), None for none
    seed: int = 0

    def response(self) -> np.ndarray:
        """The direct path then a decaying tail of reflections (exponential noise), at 16 kHz."""
        rng = np.random.default_rng(self.seed)
        n = max(1, int(self.decay_ms * SAMPLE_RATE / 1000))
        t = np.arange(n) / SAMPLE_RATE
        tail = rng.standard_normal(n) * np.exp(-6.9 * t / (self.decay_ms / 1000)) * 0.25
        tail[0] = 1.0
        return np.concatenate([np.zeros(int(self.delay_ms * SAMPLE_RATE / 1000)), tail])

    def echo_of(self, played: np.ndarray) -> np.ndarray:
        """What the microphone hears of `played` (16 kHz float), before any gain."""
        signal = played.astype(np.float64)
        if self.clip is not None:
            limit = self.clip * 32768
            signal = np.clip(signal * 1.6, -limit, limit)  # a speaker driven past its limit
        return np.convolve(signal, self.response())[: len(played)]


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2))) if len(x) else 0.0


def db(ratio: float) -> float:
    return 20.0 * np.log10(max(ratio, 1e-12))


@dataclass(frozen=True)
class Scene:
    """One microphone recording: the played voice, its echo, the person, and where the person speaks."""

    played: np.ndarray  # what the coach played (16 kHz int16)
    echo: np.ndarray  # its echo at the microphone (float)
    person: np.ndarray  # the person alone at the microphone (float, zeros outside the word)
    word_start: int  # sample where the person's word is placed
    word_end: int

    @property
    def near(self) -> np.ndarray:
        return np.clip(self.echo + self.person, -32768, 32767).astype(np.int16)


def make_scene(played: np.ndarray, word: np.ndarray | None, room: Room, echo_db: float,
               word_at_s: float, person_rms: float = 2000.0) -> Scene:
    """The person's `word` at `person_rms` (speech level), the echo `echo_db` louder than the person over
    the speech (measured on the echo while the coach talks)."""
    echo = room.echo_of(played)
    active = echo[np.abs(echo) > 0.05 * np.max(np.abs(echo))] if np.any(echo) else echo
    echo *= person_rms * 10 ** (echo_db / 20) / max(rms(active), 1e-9)
    person = np.zeros(len(played))
    start = end = int(word_at_s * SAMPLE_RATE)
    if word is not None:
        w = word.astype(np.float64)
        w = w - w.mean()
        voiced = w[np.abs(w) > 0.05 * np.max(np.abs(w))]
        w *= person_rms / max(rms(voiced), 1e-9)
        end = min(len(person), start + len(w))
        person[start:end] = w[: end - start]
    return Scene(played, echo, person, start, end)


def history_of(played: np.ndarray, started_at: float) -> PlaybackHistory:
    """A PlaybackHistory as the speaker would have filled it: 5 ms blocks at 22.05 kHz, due from
    `started_at` on, with the speaker clock's small jitter."""
    from voicecoach.audio.frames import float_to_int16, to_mono_float
    import soxr

    at_rate = float_to_int16(soxr.resample(to_mono_float(played), SAMPLE_RATE, SPEAKER_RATE, quality="HQ"))
    history = PlaybackHistory(SPEAKER_RATE, keep_seconds=len(at_rate) / SPEAKER_RATE + 5)
    rng = np.random.default_rng(1)
    expected = None
    for start in range(0, len(at_rate), SPEAKER_BLOCK):
        # the speaker's own clock (SoundDeviceSpeaker._clock): callbacks wake with ~1 ms of jitter, and the
        # time each block is due is counted in samples, pulled 2% towards what was measured
        measured = started_at + start / SPEAKER_RATE + abs(rng.normal(0, 0.001))
        due = measured if expected is None else expected + 0.02 * (measured - expected)
        expected = due + SPEAKER_BLOCK / SPEAKER_RATE
        history.add(due, at_rate[start:start + SPEAKER_BLOCK])
    return history


@dataclass
class CaptureResult:
    out: np.ndarray  # the microphone after the capture path (16 kHz int16)
    stage: CaptureEchoCanceller
    cpu_s: float
    audio_s: float


def run_capture_path(scene: Scene, canceller: EchoCanceller, clock_offset_ms: float = 0.0,
                     far_quality: str | None = None) -> CaptureResult:
    """The scene's microphone signal through the live capture path, frame by frame. The playback history
    and the capture times are on one clock, as in a live session; `clock_offset_ms` makes the capture
    timestamps that much late (a device that misreports its latency)."""
    base = 1000.0
    history = history_of(scene.played, base)
    far_end = FarEnd(history, quality=far_quality, lookahead_s=0.03) if far_quality else None
    stage = CaptureEchoCanceller(canceller, history, far_end=far_end)
    near = scene.near
    out = np.zeros_like(near)
    started = time.process_time()
    for start in range(0, len(near), FRAME_SAMPLES):
        frame = near[start:start + FRAME_SAMPLES]
        captured_at = base + start / SAMPLE_RATE + clock_offset_ms / 1000
        out[start:start + len(frame)] = stage.process(frame, captured_at)
    cpu = time.process_time() - started
    return CaptureResult(out, stage, cpu, len(near) / SAMPLE_RATE)


def echo_removed_db(scene: Scene, out: np.ndarray, after_s: float = 0.0) -> float:
    """Echo removed where only the coach is heard (the person's word and 0.3 s around it left out)."""
    mask = np.ones(len(out), bool)
    mask[: int(after_s * SAMPLE_RATE)] = False
    margin = int(0.3 * SAMPLE_RATE)
    mask[max(0, scene.word_start - margin): scene.word_end + margin] = False
    mask &= np.abs(scene.echo) > 0  # samples the echo reaches
    return db(rms(scene.echo[mask]) / max(rms(out[mask].astype(np.float64)), 1e-9))


def word_kept_db(scene: Scene, out: np.ndarray) -> float:
    """How much of the person's word is left after cancellation (dB; 0 = untouched): the output's energy
    over the word against the word alone, the echo's leftover estimated beside it subtracted."""
    word = slice(scene.word_start, scene.word_end)
    person = scene.person[word]
    voiced = np.abs(person) > 0.05 * np.max(np.abs(person))
    kept = out[word].astype(np.float64)
    return db(rms(kept[voiced]) / max(rms(person[voiced]), 1e-9))

