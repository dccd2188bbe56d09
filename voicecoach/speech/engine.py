"""Choosing the recognizer, in one place: the engines, which are available and why, and the pick for
`auto` (a Vosk model the user installed, else Whisper when its verified model is present, else
PocketSphinx, bundled, with a one-line notice). `wyoming://HOST:PORT` names a Wyoming server on the
network instead (audio leaves the machine only then), with the `auto` engine as its local fallback."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from voicecoach.errors import ModelError
from voicecoach.speech.models import GET_MODEL_HINT, find_model
from voicecoach.speech.recognizer import Recognizer

log = logging.getLogger(__name__)
ENGINES = ("auto", "whisper", "vosk", "pocketsphinx")
WYOMING = "wyoming"
ENGINE_CHOICES_TEXT = ", ".join(ENGINES) + " or wyoming://HOST:PORT"
FALLBACK_NOTICE = ("no Whisper or Vosk model installed: using PocketSphinx (less accurate); for better "
                   "recognition run scripts/setup (installs the Whisper model) or "
                   "`voicecoach models download vosk-model-small-en-us-0.15`")
WHISPER_HINT = "run scripts/setup: it installs faster-whisper-tiny.en into models/ and verifies its sha256"
WHISPER_MODEL = "faster-whisper-tiny.en"


@dataclass(frozen=True)
class EngineChoice:
    """The engine that will run, its model folder (None for PocketSphinx's bundled one) and why."""

    engine: str
    model: Path | None
    reason: str
    address: str | None = None  # a Wyoming server's wyoming://HOST:PORT

    def describe(self) -> str:
        if self.address is not None:
            return f"recognizer: {self.engine} at {self.reason}"
        return f"recognizer: {self.engine} ({self.reason})"


@dataclass(frozen=True)
class EngineStatus:
    """One engine as `voicecoach models list` shows it."""

    engine: str
    available: bool
    detail: str


def whisper_model_folder(model: str | Path | None = None) -> Path | None:
    """The verified faster-whisper folder: `model` if it is a folder holding the catalog's files (each
    checked by sha256), else the installed one; None when there is none that verifies."""
    from voicecoach.assets import find_asset, get_asset, verify_folder
    if model is None:
        return find_asset(WHISPER_MODEL)
    problems = verify_folder(get_asset(WHISPER_MODEL), Path(model))
    if problems:
        raise ModelError(f"{model} is not the verified {WHISPER_MODEL} model: " + "; ".join(problems),
                         WHISPER_HINT)
    return Path(model)


def _whisper_package_problem() -> str | None:
    import importlib.util
    missing = [name for name in ("ctranslate2", "tokenizers") if importlib.util.find_spec(name) is None]
    return f"Python package {', '.join(missing)} not installed" if missing else None


def check_engine(engine: str) -> str:
    """`engine` as given to --engine or the settings file, checked: one of ENGINES, or a Wyoming server
    address (wyoming://HOST:PORT). ModelError says what is allowed."""
    text = engine.strip()
    if text.lower() in ENGINES:
        return text.lower()
    from voicecoach.speech.wyoming_link import is_wyoming, parse_address
    if is_wyoming(text):
        return str(parse_address(text, allow_name=False))
    raise ModelError(f"unknown engine {engine!r}", f"use one of: {ENGINE_CHOICES_TEXT}")


def choose_engine(engine: str = "auto", model: str | Path | None = None) -> EngineChoice:
    """The engine for `engine` (auto|whisper|vosk|pocketsphinx|wyoming://HOST:PORT) and `model`;
    ModelError when the engine asked for cannot run. Nothing here touches the network."""
    engine = check_engine(engine)
    if engine.startswith("wyoming://"):
        where = engine[len("wyoming://"):]
        return EngineChoice(WYOMING, None, f"{where} (audio is sent there)", address=engine)
    if engine == "whisper":
        problem = _whisper_package_problem()
        if problem:
            raise ModelError(f"the Whisper engine needs CTranslate2 and tokenizers: {problem}", "run scripts/setup")
        folder = whisper_model_folder(model)
        if folder is None:
            raise ModelError("no verified Whisper model is installed", WHISPER_HINT)
        return EngineChoice("whisper", folder, f"asked for; {folder.name}, sha256-verified, in {folder.parent}")
    if engine in ("auto", "vosk"):
        vosk = find_model(model)
        if vosk is not None:
            why = "asked for" if engine == "vosk" or model else "a Vosk model you installed is used first"
            return EngineChoice("vosk", vosk, f"{why}; {vosk}")
        if engine == "vosk":
            raise ModelError("no Vosk model is installed", GET_MODEL_HINT)
        if _whisper_package_problem() is None:
            folder = whisper_model_folder()
            if folder is not None:
                return EngineChoice("whisper", folder, f"no Vosk model installed; {folder.name}, "
                                                       f"sha256-verified, in {folder.parent}")
        return EngineChoice("pocketsphinx", None, FALLBACK_NOTICE)
    return EngineChoice("pocketsphinx", None, "asked for; its bundled English model")


def engine_statuses() -> list[EngineStatus]:
    """Every engine, whether it can run here, and why (or why not)."""
    statuses = []
    problem = _whisper_package_problem()
    folder = None if problem else whisper_model_folder()
    statuses.append(EngineStatus("whisper", folder is not None,
                                 problem or (f"{folder}" if folder else f"no verified {WHISPER_MODEL} "
                                                                        f"({WHISPER_HINT})")))
    vosk = find_model(None)
    statuses.append(EngineStatus("vosk", vosk is not None, str(vosk) if vosk else "no Vosk model installed"))
    statuses.append(EngineStatus("pocketsphinx", True, "bundled English model (least accurate)"))
    return statuses


def wyoming_status(engine: str) -> tuple[EngineStatus, list[str]]:
    """A configured Wyoming server (wyoming://HOST:PORT): whether it answers, and what it offers (its
    describe info, one line per program and model). This asks the server: call it only for one the
    user named."""
    from voicecoach.speech.wyoming_link import WyomingError, describe, offer_lines, parse_address
    address = parse_address(check_engine(engine), allow_name=False)
    try:
        info = describe(address)
    except WyomingError as error:
        return EngineStatus(WYOMING, False, f"{address.where}: {error} (the local engine serves meanwhile)"), []
    lines = offer_lines(info, "asr")
    detail = f"{address.where} (audio is sent there)" if lines else f"{address.where}: offers no speech recognition"
    return EngineStatus(WYOMING, bool(lines), detail), lines


def build_recognizer(phrases: Iterable[str], engine: str = "auto", model: str | Path | None = None,
                     notice: Callable[[str], None] = lambda message: None) -> Recognizer:
    """A recognizer for the phrases. Which engine runs and why is said once through `notice`."""
    phrases = list(phrases)
    choice = choose_engine(engine, model)
    notice(choice.reason if choice.reason == FALLBACK_NOTICE else choice.describe())
    if choice.address is not None:
        from voicecoach.speech.wyoming_engine import WyomingRecognizer
        from voicecoach.speech.wyoming_link import parse_address

        def local() -> Recognizer:  # the fallback: what `auto` picks, its own notice kept to the log
            return build_recognizer(phrases, "auto", model, notice=lambda message: log.info(
                "local fallback for the Wyoming recognizer: %s", message))

        return WyomingRecognizer(parse_address(choice.address), phrases, local, notice)
    if choice.engine == "whisper":
        from voicecoach.speech.whisper_engine import WhisperRecognizer
        return WhisperRecognizer(choice.model, phrases)
    if choice.engine == "vosk":
        from voicecoach.speech.vosk_engine import VoskRecognizer
        return VoskRecognizer(choice.model, phrases)
    from voicecoach.speech.sphinx import PocketSphinxRecognizer
    return PocketSphinxRecognizer(phrases)
