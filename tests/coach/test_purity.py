"""The coach is pure: no audio, recognizer, speaker or threading code, so it runs on text in tests."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import voicecoach.coach

COACH_DIR = Path(voicecoach.coach.__file__).parent
FORBIDDEN = ("sounddevice", "pyttsx3", "vosk", "pocketsphinx", "webrtcvad", "soxr", "threading", "asyncio",
             "multiprocessing", "concurrent", "voicecoach.audio", "voicecoach.speech", "voicecoach.voice",
             "voicecoach.session")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def is_forbidden(module: str) -> bool:
    return any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN)


def test_coach_sources_import_no_audio_speech_voice_or_threading() -> None:
    sources = sorted(COACH_DIR.glob("*.py"))
    assert {p.name for p in sources} >= {"machine.py", "progress.py", "state.py", "replies.py"}
    offenders = {p.name: sorted(m for m in imported_modules(p) if is_forbidden(m)) for p in sources}
    assert not any(offenders.values()), offenders


def test_importing_the_coach_loads_no_audio_speech_or_voice_module() -> None:
    probe = ("import sys, voicecoach.coach.machine, voicecoach.coach.progress\n"
             f"bad = {FORBIDDEN!r}\n"
             "print(sorted(m for m in sys.modules if any(m == b or m.startswith(b + '.') for b in bad)"
             " and m not in ('threading', 'concurrent')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
