"""Bad audio in: unreadable files get clear errors; odd formats are read; long noise fires no command."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def recognize(*files: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOICECOACH_MODELS_DIR": "/nonexistent"}
    return subprocess.run([sys.executable, "-m", "voicecoach", "recognize", "--json", *map(str, files)],
                          capture_output=True, text=True, timeout=timeout, env=env)


def write(path: Path, samples: np.ndarray, rate: int, width: int, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        if width == 3:
            ints = samples.astype(np.int32).reshape(-1)
            data = b"".join(struct.pack("<i", int(v))[:3] for v in ints)
        else:
            data = samples.tobytes()
        wav.writeframes(data)
    return path


@pytest.mark.parametrize("name, content, words", [
    ("empty.wav", b"", "empty"),
    ("truncated.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ", "truncated.wav"),
    ("notes.wav", b"these are my shopping notes, not audio", "notes.wav"),
    ("song.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(200), "song.mp3"),
])
def test_unreadable_files_get_a_clear_error_and_no_traceback(tmp_path, name, content, words) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = recognize(path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert words in result.stderr


def test_odd_formats_are_read(tmp_path, synth) -> None:
    from voicecoach.audio.wavfile import read_wav

    speech = read_wav(synth("next step", "flite:slt")).astype(np.float64) / 32768
    at_48k = np.interp(np.arange(0, len(speech), 16000 / 48000), np.arange(len(speech)), speech)
    stereo = (np.stack([at_48k, at_48k], axis=1) * 32767).astype("<i2")
    files = [
        write(tmp_path / "8bit.wav", (speech * 127 + 128).astype(np.uint8), 16000, 1),
        write(tmp_path / "24bit.wav", (speech * 8_000_000).astype(np.int32), 16000, 3),
        write(tmp_path / "48k-stereo.wav", stereo, 48000, 2, channels=2),
    ]
    result = recognize(*files)
    assert result.returncode == 0, result.stderr
    outcomes = [json.loads(line)["intent"] for line in result.stdout.splitlines()]
    assert outcomes.count("next") >= 2, outcomes  # 8-bit audio is rough; the others must be heard


@pytest.mark.slow
def test_ten_minutes_of_silence_noise_and_clipping_fire_nothing_with_bounded_memory(tmp_path) -> None:
    rng = np.random.default_rng(7)
    minutes = 10 * 60 * 16000
    files = [
        write(tmp_path / "silence.wav", np.zeros(minutes, np.int16), 16000, 2),
        write(tmp_path / "white-noise.wav", rng.normal(0, 6000, minutes).clip(-32768, 32767).astype(np.int16), 16000, 2),
        write(tmp_path / "clipped.wav", np.where(rng.random(minutes) > 0.5, 32767, -32768).astype(np.int16), 16000, 2),
    ]
    code = ("import resource, runpy, sys; sys.argv = ['voicecoach', 'recognize', '--json'] + sys.argv[1:]\n"
            "try:\n    runpy.run_module('voicecoach', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('peak_kib', [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1],"
            " file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code, *map(str, files)], capture_output=True, text=True,
                            timeout=900, env={**os.environ, "VOICECOACH_MODELS_DIR": "/nonexistent"})
    outcomes = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(outcomes) == 3, result.stderr
    fired = [u for o in outcomes for u in o["utterances"] if u["intent"] != "none"]
    assert not fired, fired
    peak = int(result.stderr.split("peak_kib")[1].split()[0])
    assert peak < 600_000, f"peak memory {peak} KiB for three 10-minute files"
