"""`voicecoach demo`: the scripted headless session runs the real loop and records both voices."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import wave
from pathlib import Path


def test_demo_runs_headless_and_writes_the_whole_session(tmp_path: Path) -> None:
    out = tmp_path / "session.wav"
    env = {**os.environ, "VOICECOACH_STATE_DIR": str(tmp_path / "state"), "PULSE_SERVER": "unix:/nonexistent"}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "voicecoach", "demo", "--out", str(out)], capture_output=True,
                            text=True, timeout=120, env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 60
    lines = result.stdout.splitlines()
    assert sum(line.startswith("listener> ") for line in lines) >= 5
    assert any("timings ms: endpoint" in line and "first audio" in line for line in lines)
    assert any("→ explain topic=listening" in line for line in lines)
    assert any("→ question" in line for line in lines)
    with wave.open(str(out)) as wav:
        assert wav.getframerate() == 16000
        assert wav.getnframes() / wav.getframerate() > 30
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").iterdir())
