"""Command-line voices (espeak-ng, flite) rendered to 16 kHz mono WAV: test speech for tests, bench, demos.

A voice is written "engine:name", e.g. "espeak-ng:en-us", "espeak-ng:en-us+f3", "flite:slt".
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from voicecoach.errors import VoicecoachError

DEFAULT_VOICE = "espeak-ng:en-us"
ESPEAK_VOICES = ("espeak-ng:en-us", "espeak-ng:en-us+f3", "espeak-ng:en-gb", "espeak-ng:en-gb-x-rp+m3")
FLITE_VOICES = ("flite:slt", "flite:rms", "flite:awb", "flite:kal16")


def synthesize(text: str, out_path: Path, voice: str = DEFAULT_VOICE, speed: int | None = None) -> Path:
    """Speak `text` with `voice` into `out_path` as 16 kHz mono 16-bit WAV (written atomically)."""
    engine, _, name = voice.partition(":")
    if shutil.which("sox") is None:
        raise VoicecoachError("sox is not installed", "run scripts/setup (Debian package sox)")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voicecoach-synth-") as tmp:
        raw = Path(tmp) / "raw.wav"
        if engine == "espeak-ng":
            command = ["espeak-ng", "-v", name or "en-us", "-w", str(raw)]
            if speed:
                command += ["-s", str(speed)]
            command.append(text)
        elif engine == "flite":
            command = ["flite", "-voice", name or "slt", "-t", text, "-o", str(raw)]
        else:
            raise VoicecoachError(f"unknown voice {voice!r}", "use espeak-ng:NAME or flite:NAME")
        if shutil.which(command[0]) is None:
            raise VoicecoachError(f"{command[0]} is not installed", "run scripts/setup")
        subprocess.run(command, check=True, capture_output=True)
        tmp_out = out_path.with_name(out_path.name + ".part")  # sox -R: no random dither, the same clip every time
        subprocess.run(["sox", "-R", str(raw), "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer",
                        "-t", "wav", str(tmp_out)], check=True, capture_output=True)
        tmp_out.replace(out_path)
    return out_path


def cached_synthesis(text: str, cache_dir: Path, voice: str = DEFAULT_VOICE, speed: int | None = None) -> Path:
    """Like `synthesize`, but reuse a file already made for the same text, voice and speed."""
    key = hashlib.sha1(f"{voice}|{speed}|{text}".encode()).hexdigest()[:16]
    path = Path(cache_dir) / f"{key}.wav"
    return path if path.exists() else synthesize(text, path, voice, speed)
