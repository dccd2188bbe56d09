"""Shared fixtures: a private PulseAudio daemon with real (null-sink) devices (voicecoach/testing/pulse.py,
shared with bench/), and synthesized test speech.

`pulse` (session): a PulseAudio daemon in its own runtime folder with null sinks `mic` and `spk`;
the default source is `mic.monitor` (what the program "hears") and the default sink `spk` (what it says).
Helpers: `pulse.play(wav)` plays into `mic`; `pulse.record(path, seconds)` / `pulse.start_recording(path)`
capture `spk.monitor`; `pulse.env` is the environment for subprocesses. The fixture also sets
os.environ so sounddevice in this process uses the daemon (PortAudio is re-initialised if it was loaded).

`synth(text, voice="espeak-ng:en-us")` returns a cached 16 kHz mono WAV of `text` (voices: see
voicecoach.audio.synth).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

from voicecoach.audio.synth import DEFAULT_VOICE, cached_synthesis
from voicecoach.testing.pulse import PulseServer, Recording, start_pulse  # noqa: F401 (tests import them from here too)


@pytest.fixture(scope="session", autouse=True)
def private_settings_folder(tmp_path_factory) -> Iterator[Path]:
    """Every test, and every `voicecoach` it starts, reads and writes settings in a folder of its own:
    never the developer's settings file (which would change what the tests run), never left behind."""
    folder = tmp_path_factory.mktemp("settings")
    saved = os.environ.get("VOICECOACH_CONFIG_DIR")
    os.environ["VOICECOACH_CONFIG_DIR"] = str(folder)
    yield folder
    if saved is None:
        os.environ.pop("VOICECOACH_CONFIG_DIR", None)
    else:
        os.environ["VOICECOACH_CONFIG_DIR"] = saved


def _reinit_portaudio() -> None:
    """PortAudio lists devices at init: if sounddevice is already loaded, re-scan with the new server."""
    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()


@pytest.fixture(scope="session")
def pulse() -> Iterator[PulseServer]:
    if shutil.which("pulseaudio") is None or shutil.which("paplay") is None:
        pytest.skip("pulseaudio / pulseaudio-utils not installed (run scripts/setup as root)")
    base = Path(tempfile.mkdtemp(prefix="voicecoach-pulse-"))
    server = start_pulse(base)
    saved = {name: os.environ.get(name) for name in ("XDG_RUNTIME_DIR", "PULSE_SERVER")}
    os.environ["XDG_RUNTIME_DIR"] = server.env["XDG_RUNTIME_DIR"]
    os.environ["PULSE_SERVER"] = server.env["PULSE_SERVER"]
    _reinit_portaudio()
    try:
        yield server
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """synth(text, voice="espeak-ng:en-us", speed=None) -> a cached 16 kHz mono WAV of the text."""
    if shutil.which("sox") is None or (shutil.which("espeak-ng") is None and shutil.which("flite") is None):
        pytest.skip("espeak-ng/flite and sox not installed (run scripts/setup as root)")
    cache = tmp_path_factory.mktemp("synth")

    def make(text: str, voice: str = DEFAULT_VOICE, speed: int | None = None) -> Path:
        return cached_synthesis(text, cache, voice, speed)

    return make
