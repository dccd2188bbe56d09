"""The Piper voice with the real en_US-joe-medium files: speech of the right length and pace, refusal of a
tampered file, the espeak-ng fallback, playback through the PulseAudio test sink, and text normalisation."""

from __future__ import annotations

import shutil
import time

import pytest

from voicecoach.errors import ModelError
from voicecoach.sentences import split_sentences
from voicecoach.voice import engines, piper_engine
from voicecoach.voice.normalize import cardinal, ordinal, spoken_form, year
from voicecoach.voice.pace import PaceCurve, count_words, words_per_minute
from voicecoach.voice.synthesizer import Synthesizer, VoiceSettings

from voice_signals import VOICE
from voice_signals import loud_span, rms, timing_attempts

# Not guide text (the pace curve was measured on the guide): ordinary coaching prose, 64 words.
PARAGRAPH = ("When a conversation gets hard, slow down before you answer. Notice your breathing and the tension "
             "in your shoulders. Say what you heard in your own words, and ask whether you understood it "
             "correctly. You do not have to agree with everything. You only have to show that you are trying "
             "to understand, and that the relationship matters more to you than winning.")


@pytest.fixture()
def only_models_in(monkeypatch, tmp_path):
    """Make the asset store search just one (returned) folder, with its own hash cache."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("voicecoach.assets.store._search_dirs", lambda: [folder])
    return folder


def test_a_sentence_is_speech_of_plausible_length(piper):
    clip = piper.synthesize("Find a quiet place where you can talk.", rate=170)
    assert clip.sample_rate == 22050
    # 8 words at 170 words per minute is 2.8 s; Piper adds a short quiet edge.
    assert 2.0 < clip.duration < 4.5
    assert rms(clip.samples) > 1000
    first, last = loud_span(clip.samples, clip.sample_rate)
    assert first < 0.3 and last - first > 1.8


def test_blank_text_is_an_empty_clip(piper):
    assert piper.synthesize("   ").duration == 0


@pytest.mark.slow
@pytest.mark.parametrize("rate", [120, 170, 240, 300])
def test_pace_is_within_five_percent_of_the_words_per_minute_asked(piper, rate):
    sentences = split_sentences(PARAGRAPH)
    seconds = sum(piper.synthesize(sentence, rate=rate).duration for sentence in sentences)
    heard = words_per_minute(count_words(spoken_form(PARAGRAPH)), seconds)
    assert heard == pytest.approx(rate, rel=0.05)


def test_slower_and_faster_change_the_pace_in_order(piper):
    durations = [piper.synthesize("Tell me what you heard.", rate=rate).duration for rate in (130, 200, 280)]
    assert durations[0] > durations[1] > durations[2]


def test_a_tampered_voice_file_is_refused_with_a_clear_message_and_never_loaded(voice_source, only_models_in,
                                                                                 monkeypatch):
    copy = shutil.copytree(voice_source, only_models_in / VOICE)
    model = copy / f"{VOICE}.onnx"
    with open(model, "r+b") as handle:  # one byte changed, same size
        handle.seek(1_000_000)
        byte = handle.read(1)
        handle.seek(1_000_000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    loads = []
    monkeypatch.setattr(piper_engine, "_load_voice", lambda *args: loads.append(args))
    with pytest.raises(ModelError) as caught:
        piper_engine.PiperSynthesizer(VoiceSettings(VOICE))
    assert "failed verification" in caught.value.message and f"{VOICE}.onnx" in caught.value.message
    assert "sha256" in caught.value.message and "voicecoach voices install" in caught.value.hint
    assert loads == []
    # Chosen automatically, the same voice gives way to espeak-ng with the reason in one line.
    notices: list[str] = []
    synthesizer = engines.choose_synthesizer(VoiceSettings(), notice=notices.append)
    assert isinstance(synthesizer, Synthesizer) and loads == []
    assert len(notices) == 1 and "failed verification" in notices[0] and "\n" not in notices[0]


def test_without_the_voice_espeak_speaks_and_says_why_once(only_models_in):
    notices: list[str] = []
    engines._noticed.clear()
    first = engines.choose_synthesizer(VoiceSettings(rate=150), notice=notices.append)
    second = engines.choose_synthesizer(VoiceSettings(rate=150), notice=notices.append)
    assert isinstance(first, Synthesizer) and isinstance(second, Synthesizer)
    assert len(notices) == 1 and "not installed" in notices[0] and "voicecoach voices install" in notices[0]
    assert first.synthesize("Next step.").duration > 0.3
    with pytest.raises(ModelError, match="not installed"):
        engines.choose_synthesizer(VoiceSettings("piper"))
    statuses = {s.name: s for s in engines.voice_engine_statuses()}
    assert not statuses["piper"].available and statuses["espeak"].available


def test_auto_prefers_piper_and_named_voices_pick_their_engine(monkeypatch, voice_source):
    monkeypatch.delenv(engines.ENGINE_VARIABLE, raising=False)
    assert engines.engine_for(None) == "auto"
    assert engines.engine_for("piper") == engines.engine_for(VOICE) == "piper"
    assert engines.engine_for("espeak") == engines.engine_for("en-gb") == "espeak"
    monkeypatch.setattr(piper_engine, "WARM_UP_TEXT", "")
    assert isinstance(engines.choose_synthesizer(), piper_engine.PiperSynthesizer)
    espeak = engines.choose_synthesizer(VoiceSettings("espeak", 150))
    assert isinstance(espeak, Synthesizer) and espeak.settings.voice is None


@pytest.mark.audio
def test_piper_speech_plays_through_the_test_sink(pulse, piper, tmp_path):
    from voicecoach.voice.clip import read_wav
    from voicecoach.voice.playback import SoundDeviceSpeaker

    sentences = ("Step one.", "Find a quiet place where you can talk.")
    clips = [piper.synthesize(s) for s in sentences]
    expected = sum(clip.duration for clip in clips)
    spans = []
    with SoundDeviceSpeaker(piper) as speaker:
        assert speaker.warm_up()
        # The second sentence is synthesised while the first plays. On a starved host that takes longer
        # than the first sentence lasts (or blocks arrive late), which stretches the heard span; so the
        # timing counts only when the host keeps up, measured up to ATTEMPTS times. The speech is checked each time.
        for attempt in timing_attempts():
            began = time.perf_counter()
            piper.synthesize(sentences[1])
            keeps_up = time.perf_counter() - began < 0.8 * clips[0].duration
            recording = pulse.start_recording(tmp_path / f"heard-{attempt}.wav")
            time.sleep(0.3)
            result = speaker.speak(" ".join(sentences))
            time.sleep(1.0)  # parec writes late on a busy host: 0.3 s once cut the last 0.6 s of speech off
            heard = read_wav(recording.stop())
            assert result.completed and result.sentences_spoken == 2
            assert rms(heard.samples) > 300
            first, last = loud_span(heard.samples, heard.sample_rate)
            assert last - first > expected - 0.6
            if keeps_up:
                spans.append(last - first)
                if spans[-1] <= expected + 0.1:
                    break
        assert speaker.history is not None and speaker.history.last_sound_at() is not None
    assert not spans or any(span <= expected + 0.1 for span in spans), (expected, spans)


@pytest.mark.audio
def test_a_long_first_sentence_starts_with_its_first_clause_and_plays_whole(pulse, piper, tmp_path):
    from voicecoach.voice.clip import read_wav
    from voicecoach.voice.piper_engine import clause_pieces
    from voicecoach.voice.playback import SoundDeviceSpeaker

    sentence = split_sentences(PARAGRAPH)[2]
    assert len(clause_pieces(sentence)) == 2
    clauses = list(piper.synthesize_parts(sentence))
    expected = sum(clip.duration for clip in clauses)
    spans = []
    with SoundDeviceSpeaker(piper) as speaker:
        assert speaker.warm_up()
        for attempt in timing_attempts():  # measured again when a starved host delivered blocks late
            began = time.perf_counter()
            piper.synthesize(clause_pieces(sentence)[1])
            keeps_up = time.perf_counter() - began < 0.8 * clauses[0].duration
            recording = pulse.start_recording(tmp_path / f"heard-{attempt}.wav")
            time.sleep(0.3)
            result = speaker.speak(sentence)
            time.sleep(1.0)  # parec writes late on a busy host (see above)
            heard = read_wav(recording.stop())
            assert result.completed and result.sentences_spoken == 1 and rms(heard.samples) > 300
            first, last = loud_span(heard.samples, heard.sample_rate)
            assert last - first > expected - 0.6  # the whole sentence was heard
            if keeps_up:
                spans.append((result.ended_at - result.started_at, last - first))
                if abs(spans[-1][0] - expected) < 0.15 and spans[-1][1] <= expected + 0.1:
                    break
    # With the second clause ready before the first has played (the host keeps up), there is no gap:
    # the clauses' clips end to end, as the speaker's clock and the sink both say.
    assert not spans or any(abs(played - expected) < 0.15 and audible <= expected + 0.1
                            for played, audible in spans), (expected, spans)


def test_only_long_sentences_are_split_at_clauses():
    from voicecoach.voice.piper_engine import clause_pieces

    assert clause_pieces("Find a quiet place, where you can talk.") == ["Find a quiet place, where you can talk."]
    long = ("When a conversation gets hard, slow down before you answer, notice your breathing, and say what "
            "you heard in your own words.")
    assert clause_pieces(long) == ["When a conversation gets hard,", "slow down before you answer,",
                                   "notice your breathing, and say what you heard in your own words."]
    assert " ".join(clause_pieces(long)) == long


@pytest.mark.parametrize("written, said", [
    ("It costs $500.", "It costs five hundred dollars."),
    ("$1,250.50 or $1", "one thousand two hundred fifty dollars and fifty cents or one dollar"),
    ("about $2.5 million", "about two point five million dollars"),
    ("Call at 3:30 pm. Then rest.", "Call at three thirty P M. Then rest."),
    ("at 10 a.m. or 7:05", "at ten A M or seven oh five"),
    ("at 6:00", "at six o'clock"),
    ("In 1995 and the 1990s and the '80s.", "In nineteen ninety-five and the nineteen nineties and the eighties."),
    ("in 2005 and 2024", "in two thousand five and twenty twenty-four"),
    ("the 2nd and 21st time", "the second and twenty-first time"),
    ("About 10% of couples", "About ten percent of couples"),
    ("Take 20 min or 1 hr.", "Take twenty minutes or one hour."),
    ("5-10 minutes", "five to ten minutes"),
    ("1-800-799-7233", "one, eight zero zero, seven nine nine, seven two three three"),
    ("Dr. Lee and Mr Smith", "Doctor Lee and Mister Smith"),
    ("e.g. a walk, i.e. outside, etc.", "for example a walk, that is outside, et cetera"),
    ("2,000 people, 3.5 times", "two thousand people, three point five times"),
    ("Step 6 of 10", "Step six of ten"),
    ("no numbers here", "no numbers here"),
])
def test_normalisation_reads_numbers_and_shorthand_as_words(written, said):
    assert spoken_form(written) == said


def test_number_words():
    assert cardinal(0) == "zero" and cardinal(1_000_001) == "one million one"
    assert cardinal(342) == "three hundred forty-two"
    assert [ordinal(n) for n in (1, 3, 12, 20, 40, 101)] == [
        "first", "third", "twelfth", "twentieth", "fortieth", "one hundred first"]
    assert year(1900) == "nineteen hundred" and year(2000) == "two thousand" and year(1905) == "nineteen oh five"


def test_pace_curve_inverts_and_extends_past_its_points():
    curve = PaceCurve.from_pairs([[0.5, 330], [1.0, 210], [2.0, 122]])
    for scale in (0.5, 0.7, 1.0, 1.6, 2.0):
        assert curve.length_scale_for(curve.wpm_at(scale)) == pytest.approx(scale)
    assert curve.length_scale_for(210) == pytest.approx(1.0)
    assert curve.length_scale_for(100) > 2.0 and curve.length_scale_for(400) < 0.5
    with pytest.raises(ValueError):
        PaceCurve.from_pairs([[1.0, 200], [2.0, 220]])
