"""Audio leaves the machine only for a server the user named: without one, a session creates no network
socket at all; with one, it connects to that address and no other."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach.testing.wyoming_servers import free_port
from voicecoach.audio.wavfile import read_wav, write_wav

REPO = Path(__file__).resolve().parents[2]
SMALL_GUIDE = REPO / "tests" / "guide" / "data" / "minimal.yaml"
INET_SOCKET = re.compile(r"socket\(AF_INET6?,")
INET_CONNECT = re.compile(r"connect\(\d+, \{sa_family=AF_INET6?, sin6?_port=htons\((\d+)\)")


@pytest.fixture
def session_wav(synth, tmp_path) -> Path:
    silence = np.zeros(16000, np.int16)
    parts = [silence]
    for line in ("next step", "goodbye"):
        parts += [read_wav(synth(line, "flite:slt")), silence]
    return write_wav(tmp_path / "session.wav", np.concatenate(parts))


def _traced(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], str]:
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (scripts/setup installs it as root)")
    log = tmp_path / "sockets.log"
    env = {**os.environ, "VOICECOACH_STATE_DIR": str(tmp_path / "state"), "PULSE_SERVER": "unix:/nonexistent"}
    result = subprocess.run(["strace", "-f", "-qq", "-e", "trace=socket,connect", "-o", str(log),
                             sys.executable, "-m", "voicecoach", *args],
                            capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    return result, log.read_text()


@pytest.mark.slow
def test_no_network_socket_is_created_without_a_server(tmp_path, session_wav) -> None:
    result, calls = _traced(tmp_path, "run", "--guide", str(SMALL_GUIDE), "--input", str(session_wav), "--fresh")
    assert result.returncode == 0, result.stderr
    assert "→ next" in result.stdout
    assert not INET_SOCKET.findall(calls), calls
    assert "wyoming" not in result.stderr


@pytest.mark.slow
def test_with_a_server_named_only_that_address_is_contacted(tmp_path, session_wav) -> None:
    port = free_port()  # nobody listens: the coach falls back and still understands the commands
    result, calls = _traced(tmp_path, "run", "--guide", str(SMALL_GUIDE), "--input", str(session_wav), "--fresh",
                            "--engine", f"wyoming://127.0.0.1:{port}")
    assert result.returncode == 0, result.stderr
    assert f"recognizer: wyoming at 127.0.0.1:{port} (audio is sent there)" in result.stderr
    assert "→ next" in result.stdout
    ports = set(INET_CONNECT.findall(calls))
    assert ports == {str(port)}, calls
    assert "127.0.0.1" in calls and all("127.0.0.1" in line for line in calls.splitlines() if "AF_INET" in line
                                        and "connect(" in line)
