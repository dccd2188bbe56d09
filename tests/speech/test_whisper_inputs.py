"""Whisper's features and tokens, computed without faster-whisper, are faster-whisper's to the bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio.wavfile import read_wav
from voicecoach.speech import engine
from voicecoach.speech.whisper_features import HOP_LENGTH, log_mel

SPEECH_COMMANDS = Path("/work/shared/peer-data/speech-commands")
MODEL = engine.whisper_model_folder()


def _window(samples: np.ndarray, seconds: int) -> np.ndarray:
    """The utterance as the recognizer gives it to the encoder: scaled to -1..1, zero-padded to its window."""
    window = seconds * 16000
    audio = samples[:window].astype(np.float32) / 32768.0
    return np.pad(audio, (0, window - len(audio)))


def _clips() -> list[np.ndarray]:
    clips = [np.zeros(16000, np.int16), (np.random.default_rng(7).normal(0, 3000, 24000)).astype(np.int16)]
    if SPEECH_COMMANDS.is_dir():
        clips += [read_wav(sorted((SPEECH_COMMANDS / word).glob("*.wav"))[0]) for word in ("stop", "yes", "_silence_")]
    return clips


def test_log_mel_has_one_frame_per_hop_and_whispers_range():
    mel = log_mel(_window(_clips()[1], 3))
    assert mel.shape == (80, 3 * 16000 // HOP_LENGTH) and mel.dtype == np.float32
    assert mel.max() - mel.min() <= 2.0  # floored 8 decades below the peak, then divided by 4


@pytest.mark.parametrize("seconds", [3, 5, 30])
def test_log_mel_is_faster_whispers_feature_extractor_to_the_bit(seconds):
    feature_extractor = pytest.importorskip("faster_whisper.feature_extractor")
    theirs = feature_extractor.FeatureExtractor()
    for samples in _clips():
        audio = _window(samples, seconds)
        expected = theirs(audio, padding=0)[:, : len(audio) // HOP_LENGTH]
        assert np.array_equal(log_mel(audio), expected)


@pytest.mark.skipif(MODEL is None, reason="faster-whisper-tiny.en not installed (scripts/setup)")
def test_tokens_are_faster_whispers():
    tokenizer = pytest.importorskip("faster_whisper.tokenizer")
    import tokenizers

    from voicecoach.speech.whisper_tokens import WhisperTokens
    ours = WhisperTokens(MODEL / "tokenizer.json", multilingual=False)
    theirs = tokenizer.Tokenizer(tokenizers.Tokenizer.from_file(str(MODEL / "tokenizer.json")), False,
                                 task="transcribe", language="en")
    assert (ours.sot_sequence, ours.sot_prev, ours.no_timestamps, ours.eot) == \
           (theirs.sot_sequence, theirs.sot_prev, theirs.no_timestamps, theirs.eot)
    for text in (" Stop.", " What does vulnerability mean?", " I don't understand this part."):
        ids = ours.encode(text)
        assert ids == theirs.encode(text)
        assert ours.decode([*ids, ours.eot]) == theirs.decode([*ids, theirs.eot]) == text
