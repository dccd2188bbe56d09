"""Adaptive endpointing with the real Whisper recognizer on synthetic speech: a complete command is acted on at
its first short pause (150 ms of silence), not after the full hangover; a question with a pause in the
middle waits for its end and is heard whole, transcribed again there."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio.endpoint import EndpointSettings, VadEndpointer
from voicecoach.audio.frames import FRAME_MS, SAMPLE_RATE, split_frames
from voicecoach.audio.wavfile import read_wav
from voicecoach.coach.machine import Coach
from voicecoach.guide.library import find_guide
from voicecoach.session import Session, SessionSettings
from voicecoach.speech import engine
from voicecoach.understanding.vocabulary import recognizer_phrases
from voicecoach.voice.recorders import TextSpeaker

pytest.importorskip("faster_whisper")
MODEL = engine.whisper_model_folder()
pytestmark = pytest.mark.skipif(MODEL is None, reason="Whisper tiny.en not installed (scripts/setup)")
SILENCE_AFTER_S = 1.0


class CountingRecognizer:
    """The real Whisper recognizer, counting its decodes."""

    def __init__(self, recognizer) -> None:
        self.recognizer = recognizer
        self.decodes = 0

    def recognize(self, samples: np.ndarray):
        self.decodes += 1
        return self.recognizer.recognize(samples)

    def partial(self, samples: np.ndarray) -> str:
        return ""


@pytest.fixture(scope="module")
def guide():
    return find_guide(None)


@pytest.fixture(scope="module")
def whisper(guide):
    from voicecoach.speech.whisper_engine import WhisperRecognizer

    return WhisperRecognizer(MODEL, recognizer_phrases(guide))


def _speech(synth, *parts: str, pause_ms: int = 300, voice: str = "espeak-ng:en-us") -> np.ndarray:
    """The parts spoken one after another with `pause_ms` of silence between them, then a second of silence."""
    gap = np.zeros(SAMPLE_RATE * pause_ms // 1000, dtype=np.int16)
    pieces: list[np.ndarray] = []
    for part in parts:
        pieces += [_trimmed(read_wav(synth(part, voice))), gap]
    pieces[-1] = np.zeros(int(SAMPLE_RATE * SILENCE_AFTER_S), dtype=np.int16)
    return np.concatenate(pieces)


def _trimmed(samples: np.ndarray) -> np.ndarray:
    """The clip without the voice's own leading and trailing silence, so a pause is as long as asked."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 100)
    return samples[loud[0]:loud[-1] + 1]


def _last_voiced_ms(samples: np.ndarray) -> float:
    """Where the words end: the end of the last 30 ms frame louder than -40 dBFS."""
    frames = split_frames(samples)
    loud = [i for i, f in enumerate(frames) if np.sqrt(np.mean(f.astype(float) ** 2)) > 328]
    return (loud[-1] + 1) * FRAME_MS


def _session(guide, recognizer, tmp_path, monkeypatch, early_ms: int) -> Session:
    monkeypatch.setenv("VOICECOACH_STATE_DIR", str(tmp_path / "state"))
    settings = SessionSettings(endpoint=EndpointSettings(early_ms=early_ms))
    session = Session(Coach(guide, fresh=True), recognizer, TextSpeaker(io.StringIO()), settings)
    session.start()
    return session


def _feed(session: Session, samples: np.ndarray) -> None:
    for frame in split_frames(samples):
        session.feed(frame)


def test_a_command_is_acted_on_at_its_first_short_pause(guide, whisper, synth, tmp_path, monkeypatch) -> None:
    samples = _speech(synth, "next step")
    words_end_ms = _last_voiced_ms(samples)
    recognizer = CountingRecognizer(whisper)
    session = _session(guide, recognizer, tmp_path, monkeypatch, early_ms=150)
    _feed(session, samples)
    acted = [t for t in session.turns if not t.ignored]
    assert [t.intent.name for t in acted] == ["next"], [(t.heard, t.ignored) for t in session.turns]
    assert session.coach.context.step == 2  # one step on, not two
    turn = acted[0]
    assert turn.endpoint_ms == 150
    # ended at the pause: well before the words' end plus the hangover
    assert turn.at * 1000 < words_end_ms + 300, (turn.at, words_end_ms)


def test_without_early_decisions_the_command_waits_the_hangover(guide, whisper, synth, tmp_path, monkeypatch) -> None:
    samples = _speech(synth, "next step")
    words_end_ms = _last_voiced_ms(samples)
    session = _session(guide, CountingRecognizer(whisper), tmp_path, monkeypatch, early_ms=0)
    _feed(session, samples)
    assert [t.intent.name for t in session.turns] == ["next"]
    assert session.turns[0].endpoint_ms == EndpointSettings().hangover_ms
    assert session.turns[0].at * 1000 >= words_end_ms + 300


def test_a_question_with_a_pause_in_it_is_heard_whole(guide, whisper, synth, tmp_path, monkeypatch) -> None:
    samples = _speech(synth, "what does", "vulnerability mean", pause_ms=300)
    recognizer = CountingRecognizer(whisper)
    session = _session(guide, recognizer, tmp_path, monkeypatch, early_ms=150)
    _feed(session, samples)
    turns = list(session.turns)
    assert len(turns) == 1, [(t.heard, t.intent.name) for t in turns]
    assert "vulnerab" in turns[0].heard.lower(), turns[0].heard
    assert turns[0].intent.name in ("explain", "question"), turns[0].intent


def test_anything_but_a_complete_command_is_transcribed_again_at_its_end(guide, whisper, synth, tmp_path,
                                                                      monkeypatch) -> None:
    # A question is judged at its pause, not acted on, and heard again whole after the full hangover (Whisper
    # hears the last words better with the longer silence after them).
    samples = _speech(synth, "why does listening matter so much")
    recognizer = CountingRecognizer(whisper)
    session = _session(guide, recognizer, tmp_path, monkeypatch, early_ms=150)
    _feed(session, samples)
    assert len(session.turns) == 1
    assert session.turns[0].endpoint_ms == EndpointSettings().hangover_ms
    assert recognizer.decodes == 2


def test_the_endpointer_offers_each_pause_once_and_cuts_on_request(synth) -> None:
    samples = _speech(synth, "go back", "to step three", pause_ms=250)
    endpointer = VadEndpointer(EndpointSettings(early_ms=150))
    offered, finished = [], []
    for frame in split_frames(samples):
        finished += endpointer.process(frame)
        if (paused := endpointer.pause_to_judge()) is not None:
            offered.append(paused.duration)
    assert len(offered) == 2  # the pause between the parts, and the silence after them
    assert offered[0] < offered[1]
    assert len(finished) == 1  # never cut: the hangover ended it, after both parts
    endpointer = VadEndpointer(EndpointSettings(early_ms=150))
    for frame in split_frames(samples):
        endpointer.process(frame)
        if endpointer.pause_to_judge() is not None:
            cut = endpointer.cut()
            break
    assert len(cut) == 1 and abs(cut[0].duration - offered[0]) < 0.001
    assert not endpointer.in_speech


def test_a_command_that_may_become_another_waits_for_the_rest(guide, whisper, synth, tmp_path, monkeypatch) -> None:
    session = _session(guide, CountingRecognizer(whisper), tmp_path, monkeypatch, early_ms=150)
    _feed(session, _speech(synth, "go back", "to step three", voice="flite:slt", pause_ms=250))
    acted = [(t.intent.name, dict(t.intent.slots)) for t in session.turns if not t.ignored]
    assert acted == [("goto_step", {"step": 3})], [(t.heard, t.intent.name, t.ignored) for t in session.turns]


def test_the_rest_of_a_command_acted_on_early_is_not_a_new_command(guide, whisper, synth, tmp_path,
                                                                   monkeypatch) -> None:
    session = _session(guide, CountingRecognizer(whisper), tmp_path, monkeypatch, early_ms=150)
    _feed(session, _speech(synth, "repeat", "that please", pause_ms=200))
    turns = list(session.turns)
    assert [t.intent.name for t in turns if not t.ignored] == ["repeat"], [(t.heard, t.ignored) for t in turns]
    assert turns[0].endpoint_ms == 150
    assert all(t.ignored == "the rest of a command acted on early" for t in turns[1:])
