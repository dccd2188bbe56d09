"""WavFileSpeaker (speech into a WAV with a timeline) and TextSpeaker (the no-device fallback)."""

from __future__ import annotations

import io
import threading
import time

import pytest

from voicecoach.voice.clip import read_wav
from voicecoach.voice.recorders import TextSpeaker, WavFileSpeaker
from voicecoach.voice.speaker import Speaker
from voicecoach.voice.synthesizer import Synthesizer, VoiceSettings

from voice_signals import loud_span, rms


@pytest.fixture(scope="module")
def synthesizer() -> Synthesizer:
    return Synthesizer(VoiceSettings(voice="en-us"))


def test_utterances_are_appended_with_silence_between(tmp_path, synthesizer):
    path = tmp_path / "session.wav"
    with WavFileSpeaker(path, synthesizer, gap=0.5) as speaker:
        assert isinstance(speaker, Speaker)
        first = speaker.speak("Welcome. Step one: find a quiet place.")
        second = speaker.speak("Next step.")
        assert not path.exists()  # published only when closed
    assert first.completed and first.sentences_spoken == 2 and second.completed
    clip = read_wav(path)
    a, b = speaker.utterances
    assert a.start == 0 and b.start == pytest.approx(a.duration + 0.5, abs=0.01)
    assert clip.duration == pytest.approx(b.start + b.duration, abs=0.01)
    gap = clip.samples[round(a.duration * 22050) + 10:round(b.start * 22050) - 10]
    assert rms(gap) == 0
    assert rms(clip.samples[round(b.start * 22050):]) > 500
    assert not list(tmp_path.glob("*.part"))


def test_rate_override_makes_the_utterance_longer(tmp_path, synthesizer):
    with WavFileSpeaker(tmp_path / "a.wav", synthesizer) as speaker:
        speaker.speak("Take a slow breath and relax your shoulders.", rate=120)
        speaker.speak("Take a slow breath and relax your shoulders.", rate=300)
    slow, fast = speaker.utterances
    assert slow.duration > 2 * fast.duration


def test_realtime_stop_cuts_the_audio_and_counts_whole_sentences(tmp_path, synthesizer):
    with WavFileSpeaker(tmp_path / "cut.wav", synthesizer, realtime=True) as speaker:
        task = speaker.speak_async("Hello there. This second sentence is long enough to be cut in the middle.")
        time.sleep(1.5)
        speaker.stop()
        result = task.wait(2)
    assert result.stopped and result.sentences_spoken == 1
    assert result.unspoken == ("This second sentence is long enough to be cut in the middle.",)
    assert 1.3 < speaker.utterances[0].duration < 1.8
    assert read_wav(speaker.path).duration == pytest.approx(speaker.utterances[0].duration, abs=0.01)


def test_an_error_leaves_no_file(tmp_path, synthesizer):
    with pytest.raises(RuntimeError):
        with WavFileSpeaker(tmp_path / "x.wav", synthesizer) as speaker:
            speaker.speak("Half a session.")
            raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_text_speaker_prints_each_utterance_and_reports_it_spoken():
    out = io.StringIO()
    speaker = TextSpeaker(out)
    done = threading.Event()
    result = speaker.speak("Step 1: Listen. Then answer.")
    task = speaker.speak_async("Next.", on_done=lambda r: done.set())
    assert task.wait(1).completed and done.wait(1)
    assert result.sentences_spoken == 2 and result.completed
    assert out.getvalue() == "coach: Step 1: Listen. Then answer.\ncoach: Next.\n"


def test_wav_speech_is_heard_from_start_to_end(tmp_path, synthesizer):
    with WavFileSpeaker(tmp_path / "one.wav", synthesizer) as speaker:
        speaker.speak("One sentence only.")
    clip = read_wav(speaker.path)
    first, last = loud_span(clip.samples, clip.sample_rate)
    assert first < 0.2 and last > clip.duration - 0.5
