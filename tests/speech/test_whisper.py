"""The Whisper recognizer on the real tiny.en model and real recordings."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio.wavfile import read_wav
from voicecoach.errors import ModelError
from voicecoach.guide.library import find_guide
from voicecoach.speech import engine
from voicecoach.speech.pipeline import recognize_file
from voicecoach.speech.whisper_engine import MODEL_NAME, WhisperRecognizer, collapse_repeats
from voicecoach.understanding.catalog import command_phrases

pytest.importorskip("ctranslate2")
SPEECH_COMMANDS = Path("/work/shared/peer-data/speech-commands")
KITCHEN = Path("/work/shared/peer-data/picovoice-speech-to-intent/kitchen-noise.wav")
MODEL = engine.whisper_model_folder()
needs_model = pytest.mark.skipif(MODEL is None, reason=f"{MODEL_NAME} not installed (scripts/setup)")


@pytest.fixture(scope="module")
def guide():
    return find_guide(None)


@pytest.fixture(scope="module")
def whisper(guide):
    return WhisperRecognizer(MODEL, command_phrases(guide))


def test_repeated_command_collapses_to_one():
    assert collapse_repeats("stop stop stop") == "stop"
    assert collapse_repeats("go back go back") == "go back"
    assert collapse_repeats("no not now") == "no not now"
    assert collapse_repeats("what does it mean what does") == "what does it mean"
    assert collapse_repeats("very very good") == "very very good"
    assert collapse_repeats("resume riding resume riding res") == "resume riding"  # cut off by the length limit
    assert collapse_repeats("is i") == "is i"


@needs_model
@pytest.mark.slow
@pytest.mark.skipif(not SPEECH_COMMANDS.is_dir(), reason="real-voice clips not present")
def test_real_people_saying_yes_no_and_stop_are_understood(whisper, guide):
    """Every clip of 54 speakers through the whole input path (bench/whisper.py: 88-95% per word)."""
    for label, wanted in (("stop", {"pause", "stop"}), ("no", {"no"}), ("yes", {"yes"})):
        files = sorted((SPEECH_COMMANDS / label).glob("*.wav"))
        right = sum(recognize_file(f, whisper, guide).intent in wanted for f in files)
        assert right >= 0.85 * len(files), (label, right, len(files))


@needs_model
@pytest.mark.slow
@pytest.mark.skipif(not SPEECH_COMMANDS.is_dir(), reason="real-voice clips not present")
def test_other_real_words_rarely_fire_a_command(whisper, guide):
    files = [f for word in ("up", "down", "left", "on") for f in sorted((SPEECH_COMMANDS / word).glob("*.wav"))]
    fired = sum(recognize_file(f, whisper, guide).intent != "none" for f in files)
    assert fired <= 0.03 * len(files), fired


@needs_model
@pytest.mark.slow
@pytest.mark.skipif(not SPEECH_COMMANDS.is_dir(), reason="real-voice clips not present")
def test_a_stop_written_as_a_near_word_is_recovered_when_the_audio_supports_it(guide):
    """This speaker's "stop" decodes as "start"; forced through the decoder, "stop" loses under halt_margin."""
    clip = SPEECH_COMMANDS / "stop" / "5170b77f_nohash_2.wav"
    halting = WhisperRecognizer(MODEL, command_phrases(guide))
    assert recognize_file(clip, halting, guide).intent in {"pause", "stop"}
    plain = WhisperRecognizer(MODEL, command_phrases(guide), replace(halting.settings, halt_phrases=()))
    assert recognize_file(clip, plain, guide).intent == "none"


@needs_model
@pytest.mark.slow
def test_silence_and_kitchen_noise_give_no_words(whisper):
    assert whisper.recognize(np.zeros(16000, np.int16)).text == ""
    clips = sorted((SPEECH_COMMANDS / "_silence_").glob("*.wav"))[:8] if SPEECH_COMMANDS.is_dir() else []
    for clip in clips:
        assert not whisper.recognize(read_wav(clip)).in_grammar, clip
    if KITCHEN.is_file():
        noise = read_wav(KITCHEN)[: 16000 * 4]
        assert not whisper.recognize(noise).in_grammar


@needs_model
def test_auto_chooses_whisper_when_its_model_is_installed():
    assert engine.build_recognizer(["next step", "stop"], "auto").name == "whisper"


@needs_model
def test_a_tampered_model_is_refused(tmp_path):
    copy = tmp_path / MODEL_NAME
    shutil.copytree(MODEL, copy)
    with open(copy / "model.bin", "r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelError):
        engine.build_recognizer(["stop"], "whisper", copy)


@needs_model
def test_recognize_cli_says_which_engine_runs_and_why(tmp_path):
    import subprocess
    import sys
    clip = sorted((SPEECH_COMMANDS / "stop").glob("*.wav"))[0] if SPEECH_COMMANDS.is_dir() else None
    if clip is None:
        pytest.skip("real-voice clips not present")
    done = subprocess.run([sys.executable, "-m", "voicecoach", "recognize", "--engine", "whisper", str(clip)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "recognizer: whisper (asked for; faster-whisper-tiny.en, sha256-verified" in done.stderr


@needs_model
def test_the_live_loops_child_process_runs_whisper(guide):
    from voicecoach.speech.worker import RecognizerProcess
    notices: list[str] = []
    with RecognizerProcess(command_phrases(guide), engine="whisper", notice=notices.append) as recognizer:
        assert recognizer.name == "whisper" and notices and "whisper" in notices[0]
        assert recognizer.recognize(np.zeros(16000, np.int16)).text == ""


@needs_model
def test_the_recognizer_process_never_imports_faster_whisper_or_pyav():
    """The engine drives CTranslate2 itself: faster-whisper (and PyAV, which it imports) cost the recognizer
    process about 28 MB (bench/memory.py --whisper-only) for nothing it used."""
    import subprocess
    import sys
    code = ("import sys, numpy as np\n"
            "from voicecoach.speech.engine import build_recognizer\n"
            "build_recognizer(['stop'], 'whisper').recognize(np.zeros(16000, np.int16))\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('faster_whisper', 'av')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_whisper_asked_for_without_its_model_is_explained(tmp_path):
    with pytest.raises(ModelError, match="not the verified"):
        engine.build_recognizer(["stop"], "whisper", tmp_path)


@needs_model
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
@pytest.mark.parametrize("sentence", ["what does vulnerability mean in a relationship",
                                      "i want to end my life",
                                      "how do i talk to my partner when we are both angry"])
def test_free_speech_comes_through_as_what_was_said(whisper, sentence, tmp_path):
    import subprocess

    from rapidfuzz import fuzz
    from voicecoach.understanding.text import normalize
    spoken = tmp_path / "sentence.wav"  # espeak-ng writes 22.05 kHz; read_wav resamples to 16 kHz
    subprocess.run(["espeak-ng", "-w", str(spoken), sentence], check=True)
    heard = whisper.recognize(read_wav(spoken))
    assert fuzz.ratio(heard.text, normalize(sentence)) >= 85, heard.text


@needs_model
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_a_spoken_crisis_statement_reaches_the_safety_path(whisper, guide, tmp_path):
    import subprocess
    spoken = tmp_path / "crisis.wav"
    subprocess.run(["espeak-ng", "-w", str(spoken), "i want to end my life"], check=True)
    assert recognize_file(spoken, whisper, guide).intent == "safety"


@needs_model
@pytest.mark.skipif(shutil.which("flite") is None or shutil.which("espeak-ng") is None, reason="flite/espeak-ng missing")
@pytest.mark.parametrize("text,voice,intent", [("faster", "flite:slt", "faster"),
                                               ("summarize", "espeak-ng:en-gb-x-rp+m3", "summary")])
def test_a_short_command_the_model_writes_again_and_again_is_heard_once(whisper, guide, text, voice, intent, tmp_path):
    """tiny.en runs on into the silence after a lone word ("faster faster faster ..."); that loop was
    refused as an invention and the command lost (bench/soak.py, 2026-12-02)."""
    from voicecoach.audio.synth import synthesize
    spoken = read_wav(synthesize(text, tmp_path / "command.wav", voice))
    padded = np.concatenate([np.zeros(8000, np.int16), spoken, np.zeros(8000, np.int16)])
    heard = whisper.recognize(padded)
    assert heard.text == text and heard.in_grammar
    from voicecoach.speech.pipeline import understand
    assert understand(heard, guide).name == intent


# -- barge-in: the recognizer told that the coach was speaking -------------------------------------------

def _scores(own, free_logprob=-0.5, **scores):
    from voicecoach.speech.whisper_engine import BargeInScores
    commands = {"stop": "pause", "pause": "pause", "next": "next", "previous": "previous", "help": "help"}
    return BargeInScores("star", False, own, free_logprob, 0.1, tuple(scores),
                         tuple(commands[p] for p in scores), tuple(scores.values()))


@pytest.mark.parametrize("scores,taken", [
    (_scores(-1.0, stop=-1.5, next=-3.0), "stop"),  # a halt phrase within its margin, far above the rest
    (_scores(-1.0, stop=-1.5, pause=-1.6, next=-3.0), "stop"),  # a rival of the same command does not count
    (_scores(-1.0, stop=-3.5, next=-4.0), None),  # too far below what was heard
    (_scores(-1.0, stop=-1.5, next=-1.6), None),  # not clearly better than another command
    (_scores(-1.0, next=-1.2, help=-3.0), "next"),  # another command within its own margin
    (_scores(-1.0, next=-2.0, help=-3.0), None),  # ... and out of it
    (_scores(None, -0.9, stop=-1.2, next=-3.0), "stop"),  # no words heard: measured against the empty decode
])
def test_a_barge_in_phrase_is_taken_only_near_what_was_heard_and_clearly_above_the_rest(scores, taken):
    from voicecoach.speech.whisper_engine import WhisperSettings, barge_in_choice
    settings = replace(WhisperSettings(), barge_in_halt_margin=1.0, barge_in_margin=0.5, barge_in_gap=0.5)
    index = barge_in_choice(scores, settings)
    assert (scores.phrases[index] if index is not None else None) == taken


@needs_model
def test_while_the_echo_settles_only_halting_phrases_are_forced(whisper):
    from voicecoach.session import BARGE_IN_INTENTS, SETTLING_BARGE_IN_INTENTS
    settling = whisper.barge_in_phrases(SETTLING_BARGE_IN_INTENTS)
    assert {"stop", "pause"} <= set(settling) and set(settling.values()) <= {"pause", "stop"}
    speaking = whisper.barge_in_phrases(BARGE_IN_INTENTS)
    assert speaking["stop"] == "pause" and speaking["next"] == "next" and speaking["repeat"] == "repeat"
    assert len(speaking) <= 30  # each costs about 10 ms of CPU per utterance heard over the coach


@needs_model
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_a_crisis_statement_said_over_the_coach_still_reaches_the_safety_path(whisper, guide, tmp_path):
    import subprocess

    from voicecoach.session import BARGE_IN_INTENTS
    from voicecoach.speech.pipeline import understand
    from voicecoach.speech.recognizer import Hearing
    spoken = tmp_path / "crisis.wav"
    subprocess.run(["espeak-ng", "-w", str(spoken), "i want to end my life"], check=True)
    heard = whisper.recognize(read_wav(spoken), Hearing(over_voice=True, commands=BARGE_IN_INTENTS))
    assert understand(heard, guide).name == "safety", heard.text


@needs_model
def test_the_child_process_passes_on_that_the_coach_was_speaking(guide):
    """The same utterance through the live loop's child process and in this one, with the barge-in flag."""
    from voicecoach.session import BARGE_IN_INTENTS
    from voicecoach.speech.recognizer import Hearing
    from voicecoach.speech.worker import RecognizerProcess
    if not SPEECH_COMMANDS.is_dir():
        pytest.skip("real-voice clips not present")
    samples = read_wav(sorted((SPEECH_COMMANDS / "left").glob("*.wav"))[0])
    hearing = Hearing(over_voice=True, commands=BARGE_IN_INTENTS)
    local = WhisperRecognizer(MODEL, command_phrases(guide))
    with RecognizerProcess(command_phrases(guide), engine="whisper") as worker:
        assert worker.recognize(samples, hearing) == local.recognize(samples, hearing)
        assert worker.recognize(samples) == local.recognize(samples)


# -- stock inventions that were said ---------------------------------------------------------------------

@needs_model
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
@pytest.mark.parametrize("text,heard", [("bye", "bye"), ("ok", "okay")])
def test_a_command_whisper_also_invents_on_noise_is_taken_when_it_was_clearly_said(whisper, guide, text, heard, tmp_path):
    """"bye" and "okay" are commands and stock inventions: said clearly (a low no-speech probability, a sure text)
    they count; the same words invented on silence and kitchen noise do not (test_silence_and_kitchen_noise_give_no_words)."""
    from voicecoach.audio.synth import synthesize
    spoken = read_wav(synthesize(text, tmp_path / "command.wav", "espeak-ng:en-gb"))
    padded = np.concatenate([np.zeros(8000, np.int16), spoken, np.zeros(8000, np.int16)])
    transcript = whisper.recognize(padded)
    assert transcript.text == heard and transcript.in_grammar
    strict = WhisperRecognizer(MODEL, command_phrases(guide), replace(whisper.settings, said_invention_no_speech=0))
    assert strict.recognize(padded).text == ""


# -- the pipeline reads the recognizer's alternatives when the best text means nothing ------------------

@pytest.mark.parametrize("best,alternative,confidence,intent", [
    ("next please made", "next please mate", 0.9, "next"),  # the words said, ranked second
    ("next please made", "next please mate", 0.3, "none"),  # ... but too unsure
    ("how do i work miss", "next step", 0.9, "question"),  # a question is never traded for a command
    ("i want to end it all", "next step", 0.9, "safety"),  # nor a concern
    ("the weather was fine", "what was fine", 0.9, "none"),  # an alternative that is a question does not count
])
def test_an_alternative_is_taken_only_for_a_best_text_that_means_nothing_and_only_as_a_command(
        guide, best, alternative, confidence, intent):
    from voicecoach.speech.pipeline import understand
    from voicecoach.speech.recognizer import Alternative, Transcript
    heard = Transcript(best, 0.95, True, (Alternative(alternative, confidence),), "whisper")
    assert understand(heard, guide).name == intent


@needs_model
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_a_command_whisper_ranks_second_is_understood(guide, tmp_path):
    """espeak-ng (en-gb) saying "next please mate": Whisper's best is "next please made", which means nothing."""
    from voicecoach.audio.synth import synthesize
    from voicecoach.speech.pipeline import understand
    from voicecoach.understanding.vocabulary import recognizer_phrases
    spoken = read_wav(synthesize("next please mate", tmp_path / "command.wav", "espeak-ng:en-gb"))
    from voicecoach.audio.endpoint import find_utterances
    from voicecoach.audio.frames import split_frames
    padded = np.concatenate([np.zeros(8000, np.int16), spoken, np.zeros(8000, np.int16)])
    utterance = next(iter(find_utterances(split_frames(padded)))).samples  # as the live loop hears it
    heard = WhisperRecognizer(MODEL, recognizer_phrases(guide)).recognize(utterance)
    assert heard.text == "next please made"
    assert understand(heard, guide).name == "next"
