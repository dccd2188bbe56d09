"""Text-to-speech with pyttsx3's espeak driver, one sentence at a time, into AudioClips.

espeak-ng is one process-wide C library: every call goes through a single worker thread that owns the
pyttsx3 engine. pyttsx3 can hang in `runAndWait` (an empty queue, an error inside its loop), so each call
has a deadline; a stuck engine is released and replaced by a fresh one instead of blocking the caller.
"""

from __future__ import annotations

import atexit
import gc
import logging
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from voicecoach.errors import ModelError, VoicecoachError
from voicecoach.voice.clip import AudioClip, read_wav

log = logging.getLogger(__name__)

MIN_RATE, MAX_RATE, DEFAULT_RATE = 80, 450, 175
RENDER_ATTEMPTS = 3
ESPEAK_HINT = "install espeak-ng for pyttsx3: sudo apt-get install libespeak-ng1 espeak-ng-data (or run scripts/setup)"


@dataclass(frozen=True)
class VoiceInfo:
    """One installed voice: `id` is what --voice accepts (the short form after "/" works too)."""

    id: str
    name: str
    languages: tuple[str, ...]
    gender: str | None = None


@dataclass(frozen=True)
class VoiceSettings:
    """How to speak: voice id (None: espeak's default), rate in words per minute, volume 0..1."""

    voice: str | None = None
    rate: int = DEFAULT_RATE
    volume: float = 1.0

    def __post_init__(self) -> None:
        if not MIN_RATE <= self.rate <= MAX_RATE:
            raise VoicecoachError(f"speaking rate {self.rate} is out of range",
                                  f"use a rate from {MIN_RATE} to {MAX_RATE} words per minute (default {DEFAULT_RATE})")
        if not 0.0 <= self.volume <= 1.0:
            raise VoicecoachError(f"volume {self.volume} is out of range", "use a volume from 0.0 to 1.0")


class _EspeakWorker:
    """The one thread that talks to pyttsx3/espeak; jobs run in order, each with a deadline."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="espeak")
        self._engine = None
        self._default_voice: str | None = None  # espeak's own voice, for settings that name none
        self._tmp = Path(tempfile.mkdtemp(prefix="voicecoach-tts-"))
        self._lock = threading.Lock()
        atexit.register(self._drop_engine)

    def _drop_engine(self) -> None:
        """Let pyttsx3 clean up while Python is still whole (at interpreter teardown its own __del__
        fails noisily with "Exception ignored in DriverProxy.__del__"), and remove the scratch folder."""
        self._engine = None
        gc.collect()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def submit(self, fn, *args) -> Future:
        return self._executor.submit(fn, *args)

    def engine(self):
        """The pyttsx3 engine, created on first use (on the worker thread)."""
        if self._engine is None:
            try:
                import pyttsx3
                import pyttsx3.drivers.espeak as espeak_driver
            except Exception as error:  # ImportError, or OSError when libespeak-ng is missing
                raise ModelError(f"text-to-speech is not available ({error})", ESPEAK_HINT) from error
            # pyttsx3 2.99 prints "Audio saved to ..." for every file; silence it in that module only.
            espeak_driver.print = lambda *args, **kwargs: None
            try:
                self._engine = pyttsx3.init("espeak")
                if self._default_voice is None:
                    self._default_voice = self._engine.getProperty("voice")
            except Exception as error:
                raise ModelError(f"text-to-speech could not start ({error})", ESPEAK_HINT) from error
        return self._engine

    def release_stuck_engine(self) -> None:
        """Break a hung `runAndWait` loop (it polls this flag every 10 ms) and drop the engine."""
        engine, self._engine = self._engine, None
        if engine is not None:
            driver = getattr(engine.proxy, "_driver", None)
            if driver is not None:
                driver.endLoop()
            log.warning("text-to-speech engine was stuck; started a fresh one")

    def render(self, text: str, settings: VoiceSettings, index: int) -> AudioClip:
        """Speech for `text`. espeak now and then writes an empty file (seen about once in a few
        hundred calls on a loaded machine): try again, then with a fresh engine."""
        for attempt in range(RENDER_ATTEMPTS):
            clip = self._render_once(text, settings, index)
            if len(clip.samples):
                return clip
            log.info("text-to-speech gave no audio for %r (attempt %d)", text[:40], attempt + 1)
            if attempt == RENDER_ATTEMPTS - 2:
                self._engine = None
        return clip

    def _render_once(self, text: str, settings: VoiceSettings, index: int) -> AudioClip:
        engine = self.engine()
        driver = engine.proxy._driver
        # espeak-ng keeps rate, voice and volume globally and sometimes ignores a new rate that is set
        # on its own; rate, voice, rate (measured against `espeak-ng -s`) always takes effect.
        # espeak-ng's voice is global too: a settings without a voice gets the default one back.
        driver.setProperty("rate", settings.rate)
        voice = settings.voice or self._default_voice
        if voice:
            driver.setProperty("voice", voice)
        driver.setProperty("rate", settings.rate)
        driver.setProperty("volume", settings.volume)
        path = self._tmp / f"sentence-{index}.wav"
        try:
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            _wait_until_written(driver, 5.0 + len(text) / 20)
            return read_wav(path)
        except Exception:
            engine._inLoop = False  # pyttsx3 leaves this set after an error ("run loop already started")
            raise
        finally:
            path.unlink(missing_ok=True)

    def list_voices(self) -> tuple[VoiceInfo, ...]:
        voices = self.engine().getProperty("voices")
        return tuple(VoiceInfo(id=v.id, name=v.name, languages=tuple(v.languages or ()),
                               gender=(v.gender or None)) for v in voices)


def _wait_until_written(driver, timeout: float) -> None:
    """pyttsx3's espeak driver returns from runAndWait() about 10 ms after starting espeak; the WAV is
    written later, when espeak reports the end of the text (seen missing on an emulated Pi, and on this
    machine under load). Wait for that, as its `_speaking` flag tells."""
    deadline = time.monotonic() + timeout
    while getattr(driver, "_speaking", False) and time.monotonic() < deadline:
        time.sleep(0.002)


@lru_cache(maxsize=1)
def _worker() -> _EspeakWorker:
    return _EspeakWorker()


_counter = iter(range(1, 1 << 62))


def list_voices() -> tuple[VoiceInfo, ...]:
    """Every voice espeak-ng offers, in its own order."""
    return _worker().submit(_worker().list_voices).result(timeout=30)


def resolve_voice(spec: str) -> str:
    """The voice id for "gmw/en-us", "en-us" or "English (America)"; VoicecoachError if unknown."""
    wanted = spec.strip().lower()
    voices = list_voices()
    for voice in voices:
        if wanted in (voice.id.lower(), voice.id.rsplit("/", 1)[-1].lower(), voice.name.lower()):
            return voice.id
    for voice in voices:
        if wanted in (language.lower() for language in voice.languages):
            return voice.id
    raise VoicecoachError(f"no voice called {spec!r}", "list the voices with `voicecoach voices`")


class Synthesizer:
    """Renders text to speech audio with fixed settings; `rate` can be overridden per call."""

    def __init__(self, settings: VoiceSettings | None = None) -> None:
        settings = settings or VoiceSettings()
        if settings.voice:
            settings = VoiceSettings(resolve_voice(settings.voice), settings.rate, settings.volume)
        self.settings = settings

    def synthesize(self, text: str, rate: int | None = None) -> AudioClip:
        """Speech for `text` (one sentence or a few); silence-free empty clip for blank text."""
        settings = self.settings
        if rate is not None and rate != settings.rate:
            settings = VoiceSettings(settings.voice, rate, settings.volume)
        if not text.strip():
            return AudioClip.silence(0, 22050)
        worker = _worker()
        future = worker.submit(worker.render, text, settings, next(_counter))
        deadline = 10.0 + len(text) / 20  # espeak renders ~100x faster than real time
        try:
            return future.result(timeout=deadline)
        except FutureTimeout:
            worker.release_stuck_engine()
            raise VoicecoachError("text-to-speech did not finish", "try again; run with -v to see details") from None
