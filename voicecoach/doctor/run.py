"""Running the doctor's checks in order, with the user's settings (the devices, engine and voice `run`
would use), each one isolated so that one broken link is reported and never stops the others."""

from __future__ import annotations

import logging
import time
from typing import Callable

from voicecoach.doctor.audio_checks import check_echo, check_input, check_output, open_microphone
from voicecoach.doctor.report import Check, Report
from voicecoach.doctor.static_checks import check_disk, check_recognizer, check_settings, check_voice
from voicecoach.errors import VoicecoachError
from voicecoach.settings.store import read_settings

log = logging.getLogger(__name__)


def run_doctor(listen: bool = True, prompt: Callable[[str], None] = print,
               progress: Callable[[Check], None] = lambda check: None) -> Report:
    """Every check, in the order the chain runs; `prompt` asks the user to speak, `progress` sees each
    check as it is done. The settings file is read, never changed (a damaged one is not moved)."""
    started = time.monotonic()
    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        progress(check)

    settings = read_settings(move_damaged=False)
    value = settings.values.get
    add(check_settings(settings))
    add(_guarded("disk", check_disk))
    recognizer_check, recognizer = _guarded_pair("recognizer", lambda: check_recognizer(
        str(value("engine") or "auto"), _text(value("model"))))
    add(recognizer_check)
    voice_check, synthesizer = _guarded_pair("voice", lambda: check_voice(
        _text(value("voice")), value("rate"), float(value("volume") or 1.0)))  # type: ignore[arg-type]
    add(voice_check)
    output_check, speaker = _guarded_pair("output", lambda: check_output(_text(value("output-device")), synthesizer))
    add(output_check)
    opened = _guarded_pair("input", lambda: open_microphone(_text(value("input-device"))))
    mic, mic_failure = (None, opened[0]) if isinstance(opened[0], Check) else opened
    floor = -120.0
    try:
        if mic is None:
            add(mic_failure)
        else:
            input_check, heard_floor = _guarded_pair("input", lambda: check_input(mic, recognizer, listen, prompt))
            add(input_check)
            floor = heard_floor if heard_floor is not None else floor
        if mic is None or speaker is None:
            missing = " and ".join(n for n, thing in (("a microphone", mic), ("a speaker", speaker)) if thing is None)
            add(Check("echo", "skip", f"not checked: it needs {missing}"))
        else:
            add(_guarded("echo", lambda: check_echo(mic, speaker, floor)))
    finally:
        for thing in (mic, speaker):
            if thing is not None:
                thing.close()  # type: ignore[attr-defined]
    return Report(tuple(checks), time.monotonic() - started)


def _guarded(name: str, check: Callable[[], Check]) -> Check:
    return _guarded_pair(name, lambda: (check(), None))[0]


def _guarded_pair(name: str, check: Callable[[], tuple]) -> tuple:
    """`check()`, or a failed Check (and None) when it raises: a user-fixable error with its hint, else
    the error's text (with -v, its traceback in the log)."""
    try:
        return check()
    except VoicecoachError as error:
        return Check(name, "fail", error.message.splitlines()[0], error.hint), None
    except Exception as error:  # a library failing on odd hardware must not end the other checks
        log.debug("the %s check failed", name, exc_info=True)
        return Check(name, "fail", f"the check itself failed: {type(error).__name__}: {error}",
                     "run `voicecoach -v doctor` for details and report it"), None


def _text(value: object) -> str | None:
    return None if value is None else str(value)
