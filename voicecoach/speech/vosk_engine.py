"""Vosk recognizer: a KaldiRecognizer with a runtime grammar of the command phrases plus "[unk]", and the
adapter from Vosk's JSON results to a Transcript."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from voicecoach.errors import ModelError
from voicecoach.speech.grammar import UNKNOWN, vosk_grammar
from voicecoach.speech.models import validate_model
from voicecoach.speech.recognizer import QUIET, Alternative, Hearing, Transcript

log = logging.getLogger(__name__)
ENGINE = "vosk"


def transcript_from_result(result: Mapping[str, Any]) -> Transcript:
    """Vosk's final result → Transcript. Handles the word-level form ({"text", "result": [{"word",
    "conf"}]}) and the n-best form ({"alternatives": [{"text", "confidence"}]})."""
    if "alternatives" in result:
        alternatives = [a for a in result["alternatives"] if isinstance(a, Mapping)]
        if not alternatives:
            return Transcript.empty(ENGINE)
        best, rest = alternatives[0], alternatives[1:]
        text = str(best.get("text", "")).strip()
        # n-best confidences are total log-likelihood scores, not probabilities: turn them into a softmax
        scores = np.array([float(a.get("confidence", 0.0)) for a in alternatives])
        weights = np.exp(scores - scores.max())
        posteriors = weights / weights.sum()
        others = tuple(Alternative(str(a.get("text", "")).strip(), float(p)) for a, p in zip(rest, posteriors[1:]))
        return _finish(text, float(posteriors[0]), others)
    text = str(result.get("text", "")).strip()
    words = result.get("result") or []
    confidences = [float(w.get("conf", 0.0)) for w in words if isinstance(w, Mapping)]
    # a phrase is only as sure as its least sure word
    return _finish(text, min(confidences) if confidences else (1.0 if text else 0.0), ())


def _finish(text: str, confidence: float, alternatives: tuple[Alternative, ...]) -> Transcript:
    words = text.split()
    if not words:
        return Transcript.empty(ENGINE)
    if UNKNOWN in words:  # the grammar's way of saying "not a command"
        return Transcript(" ".join(w for w in words if w != UNKNOWN), 0.0, False, alternatives, ENGINE)
    return Transcript(text, max(0.0, min(1.0, confidence)), True, alternatives, ENGINE)


class VoskRecognizer:
    """A Recognizer backed by an installed Vosk model."""

    name = ENGINE

    def __init__(self, model_dir: str | Path, phrases: Iterable[str]) -> None:
        model_dir = Path(model_dir)
        validate_model(model_dir)
        try:
            import vosk
        except ImportError as error:
            raise ModelError(f"vosk is not installed: {error}", "run scripts/setup") from None
        vosk.SetLogLevel(-1)
        try:
            self._model = vosk.Model(str(model_dir))
        except Exception as error:  # vosk raises a bare Exception when Kaldi cannot read the files
            raise ModelError(f"{model_dir}: Vosk could not load this model ({error})",
                             "the files may be damaged: remove the folder and run `voicecoach models download`") from None
        self._grammar = vosk_grammar(phrases)
        self._vosk = vosk

    def _recognizer(self) -> Any:
        recognizer = self._vosk.KaldiRecognizer(self._model, 16000, self._grammar)
        recognizer.SetWords(True)
        return recognizer

    def recognize(self, samples: np.ndarray, hearing: Hearing = QUIET) -> Transcript:
        recognizer = self._recognizer()
        recognizer.AcceptWaveform(samples.astype("<i2", copy=False).tobytes())
        return transcript_from_result(json.loads(recognizer.FinalResult()))

    def partial(self, samples: np.ndarray) -> str:
        recognizer = self._recognizer()
        recognizer.AcceptWaveform(samples.astype("<i2", copy=False).tobytes())
        return str(json.loads(recognizer.PartialResult()).get("partial", "")).replace(UNKNOWN, "").strip()
