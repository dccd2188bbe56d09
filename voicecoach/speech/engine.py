"""Choosing the recognizer: Vosk when a model is installed (or asked for), else PocketSphinx."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from voicecoach.errors import ModelError
from voicecoach.speech.models import GET_MODEL_HINT, find_model
from voicecoach.speech.recognizer import Recognizer

ENGINES = ("auto", "vosk", "pocketsphinx")
FALLBACK_NOTICE = ("no Vosk model installed: using PocketSphinx (less accurate); for better recognition run "
                   "`voicecoach models download vosk-model-small-en-us-0.15`")


def build_recognizer(phrases: Iterable[str], engine: str = "auto", model: str | Path | None = None,
                     notice: Callable[[str], None] = lambda message: None) -> Recognizer:
    """A recognizer for the phrases. In auto mode a fallback to PocketSphinx is announced via `notice`."""
    phrases = list(phrases)
    if engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r}", f"use one of: {', '.join(ENGINES)}")
    if engine in ("auto", "vosk"):
        folder = find_model(model)
        if folder is not None:
            from voicecoach.speech.vosk_engine import VoskRecognizer
            return VoskRecognizer(folder, phrases)
        if engine == "vosk":
            raise ModelError("no Vosk model is installed", GET_MODEL_HINT)
        notice(FALLBACK_NOTICE)
    from voicecoach.speech.sphinx import PocketSphinxRecognizer
    return PocketSphinxRecognizer(phrases)
