"""The one place that picks the voice engine: Piper when its verified voice is installed and piper-tts
runs, else espeak-ng (pyttsx3) with a one-line notice. `--voice` chooses explicitly: "piper" or a Piper
voice id, "espeak" (espeak-ng's default voice) or an espeak-ng voice name; "wyoming://HOST:PORT[/VOICE]"
asks a Wyoming TTS server on the network, with the `auto` voice as its local fallback."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

from voicecoach.errors import ModelError
from voicecoach.voice.clip import AudioClip
from voicecoach.voice.synthesizer import Synthesizer, VoiceSettings

log = logging.getLogger(__name__)

ENGINES = ("piper", "espeak")
WYOMING = "wyoming"
ESPEAK_NAMES = ("espeak", "espeak-ng", "pyttsx3")
ENGINE_VARIABLE = "VOICECOACH_VOICE"  # a default for --voice (e.g. for `chat --speak`, which has none)


@runtime_checkable
class SpeechSynthesizer(Protocol):
    """What the speakers and export need from an engine."""

    settings: VoiceSettings

    def synthesize(self, text: str, rate: int | None = None) -> AudioClip: ...


@dataclass(frozen=True)
class VoiceEngineStatus:
    """Whether an engine can speak here, and why not."""

    name: str
    available: bool
    detail: str


def voice_engine_statuses() -> list[VoiceEngineStatus]:
    """Both engines, Piper first (the one `auto` prefers)."""
    from voicecoach.voice.piper_engine import get_piper_voice, piper_unavailable_reason, voice_folder

    spec = get_piper_voice()
    reason = piper_unavailable_reason()
    if reason is None:
        try:
            folder = voice_folder(spec)
        except ModelError as error:
            reason = error.message
        else:
            detail = f"voice {spec.id} ({spec.licence}) in {folder}"
    statuses = [VoiceEngineStatus("piper", reason is None, detail if reason is None else reason)]
    statuses.append(VoiceEngineStatus("espeak", True, "espeak-ng through pyttsx3 (robotic but always there)"))
    return statuses


def engine_for(voice: str | None) -> str:
    """"piper", "espeak", "wyoming" or "auto" for a --voice value (None: VOICECOACH_VOICE, else auto)."""
    from voicecoach.speech.wyoming_link import is_wyoming
    from voicecoach.voice.piper_engine import is_piper_voice

    voice = voice if voice else os.environ.get(ENGINE_VARIABLE) or None
    if voice is None or voice.strip().lower() == "auto":
        return "auto"
    if is_wyoming(voice):
        return WYOMING
    if is_piper_voice(voice):
        return "piper"
    return "espeak"


_noticed: set[str] = set()


def choose_synthesizer(settings: VoiceSettings | None = None,
                       notice: Callable[[str], None] | None = None) -> SpeechSynthesizer:
    """The synthesizer for `settings` (its voice picks the engine, see the module docstring).

    An explicit Piper voice that is missing or fails verification raises ModelError; with `auto` the
    reason is told once per process through `notice` (stderr by default) and espeak-ng speaks."""
    settings = settings or VoiceSettings()
    voice = settings.voice or os.environ.get(ENGINE_VARIABLE) or None
    engine = engine_for(voice)
    if engine == WYOMING:
        return _wyoming_synthesizer(voice, settings, notice or _print_notice)  # type: ignore[arg-type]
    if engine == "espeak":
        espeak_voice = None if voice is None or voice.strip().lower() in ESPEAK_NAMES else voice
        return Synthesizer(VoiceSettings(espeak_voice, settings.rate, settings.volume))
    from voicecoach.voice.piper_engine import PiperSynthesizer

    if engine == "piper":
        return PiperSynthesizer(VoiceSettings(voice, settings.rate, settings.volume))
    try:
        return PiperSynthesizer(VoiceSettings(None, settings.rate, settings.volume))
    except ModelError as error:
        message = f"speaking with espeak-ng: {error.message}" + (f" ({error.hint})" if error.hint else "")
        log.info(message)
        if message not in _noticed:
            _noticed.add(message)
            (notice or _print_notice)(message)
        return Synthesizer(VoiceSettings(None, settings.rate, settings.volume))


def _print_notice(message: str) -> None:
    print(f"voicecoach: {message}", file=sys.stderr, flush=True)


def _wyoming_synthesizer(voice: str, settings: VoiceSettings, notice: Callable[[str], None]) -> SpeechSynthesizer:
    """A Wyoming TTS server's voice, the local `auto` voice as its fallback; the startup line says where
    the coach's text goes."""
    from voicecoach.speech.wyoming_link import parse_address
    from voicecoach.voice.wyoming_voice import WyomingSynthesizer

    address = parse_address(voice)
    local_settings = VoiceSettings(None, settings.rate, settings.volume)
    named = f", voice {address.name}" if address.name else ""
    notice(f"voice: wyoming at {address.where}{named} (the coach's text is sent there)")
    return WyomingSynthesizer(address, settings, local=lambda: choose_synthesizer(
        local_settings, notice=lambda message: log.info("local fallback voice: %s", message)), notice=notice)


def wyoming_voice_status(voice: str, language: str = "") -> tuple[VoiceEngineStatus, list[str]]:
    """A configured Wyoming TTS server: whether it answers, and the voices it offers (its describe info).
    This asks the server: call it only for one the user named."""
    from voicecoach.speech.wyoming_link import WyomingError, describe, offer_lines, parse_address

    address = parse_address(voice)
    try:
        info = describe(address)
    except WyomingError as error:
        return VoiceEngineStatus(WYOMING, False, f"{address.where}: {error} (the local voice speaks meanwhile)"), []
    lines = offer_lines(info, "tts", language)
    detail = (f"{address.where} (the coach's text is sent there)" if lines
              else f"{address.where}: offers no text to speech")
    return VoiceEngineStatus(WYOMING, bool(lines), detail), lines
