"""`voicecoach say` and `voicecoach voices` as a user runs them (subprocesses, real devices or none)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from voicecoach.voice.clip import read_wav

from voice_signals import rms


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_no_output_device_falls_back_to_text_and_exits_0(tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), PULSE_SERVER=f"unix:{tmp_path}/no-such-socket")
    result = run("say", "Hello there. This is the coach.", env=env)
    assert result.returncode == 0
    assert result.stdout == "coach: Hello there. This is the coach.\n"
    message = result.stderr.strip().splitlines()
    assert len(message) == 1 and "no audio output" in message[0] and "text instead" in message[0]
    assert "Traceback" not in result.stderr


def test_say_writes_a_wav(tmp_path):
    out = tmp_path / "said.wav"
    result = run("say", "--wav", str(out), "--rate", "150", "Next step.")
    assert result.returncode == 0, result.stderr
    clip = read_wav(out)
    assert 0.5 < clip.duration < 3 and rms(clip.samples) > 500


@pytest.mark.audio
def test_say_plays_through_the_named_device(pulse, tmp_path):
    recording = pulse.start_recording(tmp_path / "heard.wav")
    result = subprocess.run([sys.executable, "-m", "voicecoach", "say", "--output-device", "pulse", "Go back."],
                            capture_output=True, text=True, timeout=60, env=pulse.env)
    heard = read_wav(recording.stop())
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and rms(heard.samples) > 100


@pytest.mark.parametrize("args, expected", [
    (["say", "--voice", "no-such-voice", "Hi"], "no voice called"),
    (["say", "--rate", "20", "Hi"], "rate 20 is out of range"),
])
def test_bad_options_are_short_errors(args, expected):
    result = run(*args)
    assert result.returncode != 0 and expected in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_voices_lists_english_voices():
    result = run("voices", "--language", "en-us")
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith("gmw/en-us ")
