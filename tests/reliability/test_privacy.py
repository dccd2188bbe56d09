"""Privacy: no network connection is ever opened, and nothing is recorded unless asked (--record DIR)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio.wavfile import read_wav, write_wav

REPO = Path(__file__).resolve().parents[2]
SMALL_GUIDE = REPO / "tests" / "guide" / "data" / "minimal.yaml"
INET_CONNECT = re.compile(r"connect\(\d+, \{sa_family=AF_INET6?")


@pytest.fixture
def session_wav(synth, tmp_path) -> Path:
    silence = np.zeros(16000, np.int16)
    parts = [silence]
    for line in ("next step", "why is my tea bitter", "goodbye"):
        parts += [read_wav(synth(line, "flite:slt")), silence]
    return write_wav(tmp_path / "session.wav", np.concatenate(parts))


def traced(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run voicecoach under strace, logging every connect() of the process and its threads."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (scripts/setup installs it as root)")
    log = tmp_path / "connect.log"
    env = {**os.environ, "VOICECOACH_STATE_DIR": str(tmp_path / "state"), "PULSE_SERVER": "unix:/nonexistent"}
    result = subprocess.run(["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(log),
                             sys.executable, "-m", "voicecoach", *args],
                            capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    return result, log.read_text()


def test_a_whole_session_opens_no_network_connection(tmp_path, session_wav) -> None:
    result, connects = traced(tmp_path, "run", "--guide", str(SMALL_GUIDE), "--input", str(session_wav),
                              "--fresh", "--wav-out", str(tmp_path / "coach.wav"))
    assert result.returncode == 0, result.stderr
    assert "→ next" in result.stdout  # it really ran
    assert not INET_CONNECT.findall(connects), connects


def test_the_demo_opens_no_network_connection(tmp_path) -> None:
    result, connects = traced(tmp_path, "demo", "--out", str(tmp_path / "demo.wav"))
    assert result.returncode == 0, result.stderr
    assert not INET_CONNECT.findall(connects), connects


def test_nothing_is_recorded_unless_asked(tmp_path, session_wav) -> None:
    env = {**os.environ, "VOICECOACH_STATE_DIR": str(tmp_path / "state"), "PULSE_SERVER": "unix:/nonexistent"}
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run([sys.executable, "-m", "voicecoach", "run", "--guide", str(SMALL_GUIDE), "--input",
                    str(session_wav), "--fresh"], capture_output=True, text=True, timeout=300, env=env, cwd=work,
                   check=True)
    audio_written = [p for p in tmp_path.rglob("*.wav") if p != session_wav]
    assert not audio_written, audio_written
    state_files = list((tmp_path / "state").glob("*"))
    assert all(p.suffix == ".json" for p in state_files) and state_files
    assert not any(b"RIFF" in p.read_bytes()[:4] for p in state_files)

    recorded = tmp_path / "recorded"
    subprocess.run([sys.executable, "-m", "voicecoach", "run", "--guide", str(SMALL_GUIDE), "--input",
                    str(session_wav), "--fresh", "--record", str(recorded)], capture_output=True, text=True,
                   timeout=300, env=env, cwd=work, check=True)
    kept = sorted(recorded.glob("*.wav"))
    assert len(kept) == 3 and kept[0].name.endswith("-next.wav")
