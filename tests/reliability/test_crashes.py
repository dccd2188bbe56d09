"""Crashes: `kill -9` of the live loop at random moments (saves included) never leaves a state that fails
to load, and the next start goes on from a valid place."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio.wavfile import write_wav
from voicecoach.coach.progress import ProgressStore

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "content" / "relationship-ten-steps.yaml"
KILLS = 20


@pytest.mark.slow
def test_kill_9_at_random_moments_always_leaves_loadable_progress(tmp_path) -> None:
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(2 * 16000, np.int16))
    state = tmp_path / "state"
    env = {**os.environ, "VOICECOACH_STATE_DIR": str(state), "PULSE_SERVER": "unix:/nonexistent"}
    # --continuous on a recording reads the guide step after step as fast as it can, saving after each
    # turn: a kill lands in the middle of reading, of matching or of a save.
    command = [sys.executable, "-m", "voicecoach", "run", "--guide", str(GUIDE), "--input", str(quiet),
               "--continuous", "--fresh"]
    started = time.monotonic()
    subprocess.run(command, env=env, capture_output=True, timeout=120, check=True)
    whole_run = time.monotonic() - started  # under a second here: start-up, then the guide read and saved
    rng = random.Random(9)
    killed_mid_run = 0
    for _ in range(KILLS):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.4, 1.0) * whole_run)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed_mid_run += 1
        process.wait(timeout=60)
        loaded = ProgressStore(state).load("relationship-ten-steps")
        assert loaded.problem is None, loaded.problem
        leftovers = [p.name for p in state.iterdir() if not p.name.endswith(".json")] if state.exists() else []
        assert not [name for name in leftovers if name.endswith(".bak")], leftovers
    assert killed_mid_run >= KILLS // 2, killed_mid_run  # most kills really interrupted a running session
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
