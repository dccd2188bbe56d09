"""`voicecoach run --input FILE`: the whole loop on a recording (real recognizer, real coach, real files)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio.wavfile import read_wav, write_wav

REPO = Path(__file__).resolve().parents[2]
SMALL_GUIDE = REPO / "tests" / "guide" / "data" / "minimal.yaml"
SILENCE = np.zeros(int(1.2 * 16000), np.int16)


@pytest.fixture
def recording(synth, tmp_path):
    """A WAV of spoken lines (flite), each followed by silence."""
    def make(*lines: str) -> Path:
        parts = [SILENCE]
        for line in lines:
            parts += [read_wav(synth(line, "flite:slt")), SILENCE]
        return write_wav(tmp_path / "session.wav", np.concatenate(parts))
    return make


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOICECOACH_STATE_DIR": str(tmp_path / "state"), "PULSE_SERVER": "unix:/nonexistent"}
    return subprocess.run([sys.executable, "-m", "voicecoach", "run", "--guide", str(SMALL_GUIDE), *args],
                          capture_output=True, text=True, timeout=180, env=env)


def intents(output: str) -> list[str]:
    return [line.split("→ ")[1].split()[0] for line in output.splitlines() if "] heard " in line and "→ " in line]


def test_a_recorded_session_is_understood_and_answered(recording, tmp_path) -> None:
    wav = recording("next step", "tell me more", "go back", "goodbye", "yes", "next step")
    result = run(tmp_path, "--input", str(wav), "--fresh")
    assert result.returncode == 0, result.stderr
    # A spoken goodbye is confirmed first ("go back" can be heard as "goodbye"); after yes, nothing more
    # is heard: the last "next step" comes after the end.
    assert intents(result.stdout) == ["next", "more", "previous", "stop", "yes"]
    assert "Step 2 of 3: Steep the leaves" in result.stdout
    assert "coach: Do you want to stop for today?" in result.stdout
    assert "coach: Goodbye for now." in result.stdout
    assert "Traceback" not in result.stderr
    saved = list((tmp_path / "state").glob("*.json"))
    assert saved, "progress was not saved"


def test_every_utterance_not_understood_says_why(recording, tmp_path) -> None:
    # Nothing heard is lost without a word: each "none" names its reason (issue 16, no lost commands).
    wav = recording("next step", "the weather is lovely today isn't it", "next step")
    result = run(tmp_path, "--input", str(wav), "--fresh", "--min-confidence", "0.5")
    assert result.returncode == 0, result.stderr
    turns = [line for line in result.stdout.splitlines() if "] heard " in line]
    assert [t.split("→ ")[1].split()[0] for t in turns] == ["next", "none", "next"], turns
    assert "(not understood: no command or question of this guide in the words)" in turns[1], turns[1]
    assert "not understood" not in turns[0] + turns[2]


def test_the_coach_can_be_written_to_a_wav(recording, tmp_path) -> None:
    wav = recording("next step", "goodbye")
    out = tmp_path / "coach.wav"
    result = run(tmp_path, "--input", str(wav), "--fresh", "--wav-out", str(out))
    assert result.returncode == 0, result.stderr
    spoken = read_wav(out)
    assert len(spoken) / 16000 > 5 and np.abs(spoken).max() > 3000


def test_with_a_wake_phrase_only_addressed_speech_counts(recording, tmp_path) -> None:
    wav = recording("next step", "hey coach next step", "hey coach goodbye")
    result = run(tmp_path, "--input", str(wav), "--fresh", "--wake-word", "hey coach")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "] heard " in line]
    assert "no wake phrase" in lines[0]
    assert "→ next" in lines[1] and "→ stop" in lines[2]


def test_continuous_reading_goes_through_the_guide_alone(tmp_path) -> None:
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(3 * 16000, np.int16))
    result = run(tmp_path, "--input", str(quiet), "--fresh", "--continuous")
    assert result.returncode == 0, result.stderr
    for heading in ("Step 1 of 3", "Step 2 of 3", "Step 3 of 3"):
        assert heading in result.stdout
    assert "Take a moment to enjoy the smell" in result.stdout  # step 3's body, read without being asked


def test_an_unreadable_recording_is_a_clear_error(tmp_path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio")
    result = run(tmp_path, "--input", str(bad))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "notes.wav" in result.stderr
