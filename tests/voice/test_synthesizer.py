"""pyttsx3/espeak-ng synthesis into buffers: real speech, rate, voices, and no hangs in loops."""

from __future__ import annotations

import threading
import time

import pytest

from voicecoach.errors import VoicecoachError
from voicecoach.voice.clip import AudioClip
from voicecoach.voice.synthesizer import Synthesizer, VoiceSettings, list_voices, resolve_voice

from voice_signals import COMMANDS, loud_span, rms

SENTENCE = "Take a slow breath and notice how your shoulders feel right now."


@pytest.fixture(scope="module")
def synthesizer() -> Synthesizer:
    return Synthesizer(VoiceSettings(voice="en-us"))


def test_sentence_becomes_nonsilent_speech_of_plausible_length(synthesizer):
    clip = synthesizer.synthesize(SENTENCE)
    assert clip.sample_rate == 22050
    words = len(SENTENCE.split())
    # 12 words at 175 wpm is about 4.1 s of speech; espeak adds a short end pause.
    assert 0.6 * words / 175 * 60 < clip.duration < 1.6 * words / 175 * 60
    assert rms(clip.samples) > 500
    first, last = loud_span(clip.samples, clip.sample_rate)
    assert first < 0.3 and last - first > 2.5


def test_a_recognizer_hears_the_words_that_were_synthesized(recognize):
    """pocketsphinx (its bundled model, a grammar of the commands) is not tuned to espeak's voice:
    measured 7 of 8 at 150 wpm with en-us. Most must come out right; silence must give nothing."""
    synthesizer = Synthesizer(VoiceSettings(voice="en-us", rate=150))
    heard = {command: recognize(synthesizer.synthesize(command)) for command in COMMANDS}
    assert sum(heard[c] == c for c in COMMANDS) >= len(COMMANDS) - 1, heard
    assert recognize(AudioClip.silence(1.0, 22050)) == ""


def test_rate_changes_duration_in_order(synthesizer):
    durations = {rate: synthesizer.synthesize(SENTENCE, rate=rate).duration for rate in (120, 175, 260, 400)}
    assert durations[120] > durations[175] > durations[260] > durations[400]
    assert durations[120] / durations[260] == pytest.approx(260 / 120, rel=0.25)


def test_rate_sequence_is_applied_every_time(synthesizer):
    """espeak-ng ignored some rate changes when set alone; each call must get the rate it asks for."""
    expected = {rate: synthesizer.synthesize(SENTENCE, rate=rate).duration for rate in (120, 200, 300)}
    for rate in (120, 200, 300, 120, 120, 300, 200, 200, 120):
        assert synthesizer.synthesize(SENTENCE, rate=rate).duration == pytest.approx(expected[rate], abs=0.1)


def test_volume_scales_the_signal():
    loud = Synthesizer(VoiceSettings(voice="en-us", volume=1.0)).synthesize(SENTENCE)
    quiet = Synthesizer(VoiceSettings(voice="en-us", volume=0.3)).synthesize(SENTENCE)
    assert rms(quiet.samples) < 0.6 * rms(loud.samples)


def test_voices_are_listed_and_resolved_by_short_id_or_name():
    voices = list_voices()
    assert any(v.id == "gmw/en-us" for v in voices)
    assert resolve_voice("en-us") == resolve_voice("English (America)") == "gmw/en-us"
    us = Synthesizer(VoiceSettings(voice="en-us")).synthesize(SENTENCE)
    gb = Synthesizer(VoiceSettings(voice="en-gb")).synthesize(SENTENCE)
    assert len(us.samples) != len(gb.samples) or (us.samples != gb.samples).any()


@pytest.mark.parametrize("settings", [dict(voice="no-such-voice"), dict(rate=20), dict(rate=900), dict(volume=1.5)])
def test_bad_settings_are_user_errors_with_a_hint(settings):
    with pytest.raises(VoicecoachError) as caught:
        Synthesizer(VoiceSettings(**settings))
    assert caught.value.hint


def test_many_calls_in_a_loop_never_hang(synthesizer):
    """pyttsx3's runAndWait is known to hang or go silent after the first utterance (field anchors 3.2)."""
    began = time.monotonic()
    timings = []
    for index in range(60):
        start = time.perf_counter()
        clip = synthesizer.synthesize(f"Sentence number {index}.", rate=150 + index)
        timings.append(time.perf_counter() - start)
        assert rms(clip.samples) > 300
    assert time.monotonic() - began < 20
    timings.sort()
    print(f"synthesis per short sentence: median {timings[30] * 1000:.1f} ms, max {timings[-1] * 1000:.1f} ms")


def test_threads_share_the_engine_safely():
    slow = Synthesizer(VoiceSettings(voice="en-us", rate=120))
    fast = Synthesizer(VoiceSettings(voice="en-us", rate=300))
    expected = {"slow": slow.synthesize(SENTENCE).duration, "fast": fast.synthesize(SENTENCE).duration}
    results: list[tuple[str, float]] = []

    def work(name: str, synth: Synthesizer) -> None:
        for _ in range(10):
            results.append((name, synth.synthesize(SENTENCE).duration))

    threads = [threading.Thread(target=work, args=("slow", slow)), threading.Thread(target=work, args=("fast", fast))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 20
    for name, duration in results:
        assert duration == pytest.approx(expected[name], abs=0.1)


def test_blank_text_gives_an_empty_clip(synthesizer):
    assert synthesizer.synthesize("   ").duration == 0
