"""The echo filter on real synthesized speech: our own voice alone is dropped, a listener over it is kept."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest

from voicecoach.audio.echo import ReferenceEchoFilter
from voicecoach.audio.frames import SAMPLE_RATE, Utterance, resample_to_16k
from voicecoach.audio.synth import synthesize
from voicecoach.audio.wavfile import read_wav
from voicecoach.voice.clip import AudioClip
from voicecoach.voice.synthesizer import Synthesizer


@dataclass
class RecordedPlayback:
    """What a speaker played, placed on the monotonic clock (the real PlaybackHistory's contract)."""

    clip: AudioClip
    started_at: float

    def segment(self, start: float, end: float) -> AudioClip:
        rate = self.clip.sample_rate
        out = np.zeros(max(0, round((end - start) * rate)), np.int16)
        offset = round((self.started_at - start) * rate)
        src = np.asarray(self.clip.samples)
        lo, hi = max(0, offset), min(len(out), offset + len(src))
        if hi > lo:
            out[lo:hi] = src[lo - offset:hi - offset]
        return AudioClip(out, rate)


@pytest.fixture(scope="module")
def coach_voice() -> AudioClip:
    return Synthesizer().synthesize("Step four of ten. Do not run from conflict. Say next to go on.")


def _utterance(samples: np.ndarray) -> Utterance:
    return Utterance(samples.astype(np.int16), 0.0, len(samples) / SAMPLE_RATE)


def test_our_own_voice_through_a_delay_and_gain_is_dropped(coach_voice: AudioClip) -> None:
    played_at = time.monotonic() - 5.0
    ours = resample_to_16k(np.asarray(coach_voice.samples), coach_voice.sample_rate).astype(np.float64)
    delay = int(0.12 * SAMPLE_RATE)  # output plus input latency
    mic = np.concatenate([np.zeros(delay), 0.4 * ours])[: len(ours)]
    mic += np.random.default_rng(1).normal(0, 30, len(mic))  # a quiet room
    heard_at = played_at + len(mic) / SAMPLE_RATE
    echo_filter = ReferenceEchoFilter(RecordedPlayback(coach_voice, played_at))
    assert echo_filter.clean(_utterance(mic), heard_at) is None


@pytest.mark.parametrize("gap_ms", [60, -50])
def test_our_own_voice_is_dropped_after_a_gap_moves_it_mid_utterance(coach_voice: AudioClip, gap_ms: int) -> None:
    # A busy machine: the speaker ran dry for 60 ms (the rest of the echo comes later), or the microphone lost
    # 50 ms (it comes earlier). Either moves our voice by more than the block-to-block drift allowed.
    played_at = time.monotonic() - 5.0
    ours = resample_to_16k(np.asarray(coach_voice.samples), coach_voice.sample_rate).astype(np.float64)
    echo = np.concatenate([np.zeros(int(0.06 * SAMPLE_RATE)), 0.4 * ours])
    middle, gap = len(echo) // 2, abs(gap_ms) * SAMPLE_RATE // 1000
    if gap_ms > 0:
        mic = np.concatenate([echo[:middle], np.zeros(gap), echo[middle:]])[: len(ours)]
    else:
        mic = np.concatenate([echo[:middle], echo[middle + gap:]])
    mic += np.random.default_rng(2).normal(0, 30, len(mic))
    heard_at = played_at + len(mic) / SAMPLE_RATE
    assert ReferenceEchoFilter(RecordedPlayback(coach_voice, played_at)).clean(_utterance(mic), heard_at) is None


def test_a_listener_speaking_over_our_voice_is_kept_and_cleaned(coach_voice: AudioClip, tmp_path) -> None:
    played_at = time.monotonic() - 5.0
    ours = resample_to_16k(np.asarray(coach_voice.samples), coach_voice.sample_rate).astype(np.float64)
    listener = read_wav(synthesize("stop", tmp_path / "stop.wav", "flite:slt")).astype(np.float64)
    mic = 0.4 * ours
    at = len(mic) // 3
    mic[at:at + len(listener)] += listener[: len(mic) - at]
    heard_at = played_at + len(mic) / SAMPLE_RATE
    cleaned = ReferenceEchoFilter(RecordedPlayback(coach_voice, played_at)).clean(_utterance(mic), heard_at)
    assert cleaned is not None
    kept = cleaned[at:at + len(listener)].astype(np.float64)
    correlation = np.dot(kept, listener) / np.sqrt(np.dot(kept, kept) * np.dot(listener, listener))
    assert correlation > 0.9
    outside = cleaned[: at].astype(np.float64)
    assert np.sqrt(np.mean(outside ** 2)) < 0.1 * np.sqrt(np.mean((0.4 * ours[:at]) ** 2))


def test_nothing_played_leaves_the_utterance_alone(tmp_path) -> None:
    listener = read_wav(synthesize("next step", tmp_path / "next.wav", "flite:slt"))
    silence = AudioClip(np.zeros(10), 22050)
    echo_filter = ReferenceEchoFilter(RecordedPlayback(silence, time.monotonic() - 100))
    cleaned = echo_filter.clean(_utterance(listener), time.monotonic())
    assert cleaned is not None and np.array_equal(cleaned, listener)
