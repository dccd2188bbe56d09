"""Speech made ahead (PreparedSpeech) over the real voices: espeak-ng for the behaviour, Piper for the point
of it (its first audio comes at once when the sentence was made before)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from voicecoach.voice.prepared import PreparedSpeech
from voicecoach.voice.synthesizer import Synthesizer, VoiceSettings

SENTENCE = "Step two of three: water them in the morning."


class CountingSynthesizer:
    """The real espeak-ng synthesizer, counting the sentences it is asked to make."""

    def __init__(self) -> None:
        self.inner = Synthesizer(VoiceSettings(voice="en-us"))
        self.settings = self.inner.settings
        self.made: list[str] = []
        self.lock = threading.Lock()

    def synthesize(self, text: str, rate: int | None = None):
        with self.lock:
            self.made.append(text)
        return self.inner.synthesize(text, rate)


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_a_prepared_sentence_is_made_once_and_served_whole() -> None:
    counting = CountingSynthesizer()
    speech = PreparedSpeech(counting)
    speech.prepare([(SENTENCE, 170)])
    assert wait_until(lambda: speech.is_made(SENTENCE, 170))
    clip = speech.synthesize(SENTENCE, rate=170)
    again = list(speech.synthesize_parts(SENTENCE, rate=170))
    assert counting.made == [SENTENCE] and speech.hits == 2
    assert len(again) == 1 and np.array_equal(again[0].samples, clip.samples)
    assert clip.duration > 1.0


def test_another_rate_is_another_sentence() -> None:
    counting = CountingSynthesizer()
    speech = PreparedSpeech(counting)
    slow = speech.synthesize(SENTENCE, rate=120)
    fast = speech.synthesize(SENTENCE, rate=240)
    assert counting.made == [SENTENCE, SENTENCE] and slow.duration > fast.duration * 1.4


def test_what_was_said_is_kept_for_repeat_and_the_oldest_is_dropped() -> None:
    counting = CountingSynthesizer()
    speech = PreparedSpeech(counting, capacity=2)
    for text in ("One.", "Two.", "Three."):
        speech.synthesize(text)
    speech.synthesize("Three.")
    speech.synthesize("One.")
    assert counting.made == ["One.", "Two.", "Three.", "One."]


def test_a_sentence_being_made_ahead_is_waited_for_not_made_twice() -> None:
    counting = CountingSynthesizer()
    speech = PreparedSpeech(counting)
    long = " ".join([SENTENCE] * 4)
    speech.prepare([(long, None)])
    assert wait_until(lambda: counting.made == [long], 5)  # the background has started on it
    speech.synthesize(long)
    assert counting.made == [long]


def test_new_wishes_replace_old_ones_not_yet_made_and_a_failure_is_only_logged() -> None:
    class Failing(CountingSynthesizer):
        def synthesize(self, text, rate=None):
            if text == "Broken.":
                raise RuntimeError("the voice failed")
            return super().synthesize(text, rate)

    speech = PreparedSpeech(Failing())
    speech.prepare([("Broken.", None), ("Fine.", None)])
    assert wait_until(lambda: speech.is_made("Fine."))
    assert not speech.is_made("Broken.")
    speech.close()


def test_each_sentence_may_come_with_its_own_rate() -> None:
    counting = CountingSynthesizer()
    speech = PreparedSpeech(counting)
    speech.prepare([(SENTENCE, 150), ("Okay, I'll speak faster.", 190)])
    assert wait_until(lambda: speech.is_made("Okay, I'll speak faster.", 190))
    assert speech.is_made(SENTENCE, 150) and not speech.is_made(SENTENCE, 190)


def test_making_ahead_waits_while_the_listener_has_the_floor() -> None:
    counting = CountingSynthesizer()
    speech = PreparedSpeech(counting)
    listener_speaking = threading.Event()
    listener_speaking.set()
    speech.wait_while = listener_speaking.is_set
    speech.prepare([(SENTENCE, None)])
    time.sleep(0.5)
    assert counting.made == []  # nothing made while the listener speaks
    listener_speaking.clear()
    assert wait_until(lambda: speech.is_made(SENTENCE))
    speech.close()


@pytest.mark.slow
def test_with_piper_a_prepared_first_sentence_has_its_first_audio_at_once(piper) -> None:
    speech = PreparedSpeech(piper)
    first = "Step seven of ten: Give each other room to grow, and notice what changes between you."
    began = time.perf_counter()
    cold = next(iter(piper.synthesize_parts(first)))
    cold_seconds = time.perf_counter() - began
    speech.prepare([(first, None)])
    assert wait_until(lambda: speech.is_made(first), 30)
    began = time.perf_counter()
    served = next(iter(speech.synthesize_parts(first)))
    served_seconds = time.perf_counter() - began
    assert served.duration > cold.duration  # the whole sentence, not only its first clause
    assert served_seconds < cold_seconds / 10, (served_seconds, cold_seconds)


@pytest.mark.slow
def test_a_closed_piper_voice_finishes_its_sentence_then_gives_silence(voice_source) -> None:
    from voicecoach.voice.piper_engine import PiperSynthesizer
    from voice_signals import VOICE

    piper = PiperSynthesizer(VoiceSettings(VOICE))
    made: list = []
    speaking = threading.Thread(target=lambda: made.append(piper.synthesize(" ".join([SENTENCE] * 3))))
    speaking.start()
    time.sleep(0.05)
    piper.close()  # waits for the sentence under way: the process may then exit without onnxruntime aborting it
    speaking.join(5)
    assert made and made[0].duration > 3.0  # the sentence under way was finished, not cut
    assert piper.synthesize(SENTENCE).duration == 0.0
