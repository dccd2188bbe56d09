"""Device loss: the microphone and speaker go away mid-session and come back, on a private PulseAudio
daemon. `voicecoach run` says or prints what happened, keeps its place, retries, and carries on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from voicecoach.testing.pulse import PulseServer, start_pulse
from voicecoach.testing.speaker_monitor import Monitor
from voicecoach.audio.wavfile import read_wav

pytestmark = [pytest.mark.audio, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "tests" / "guide" / "data" / "minimal.yaml"
VOICE = "flite:slt"


class LiveRun:
    """`voicecoach run` on the daemon's default devices, its output followed in files."""

    def __init__(self, pulse: PulseServer, folder: Path) -> None:
        self.folder = folder
        self.out, self.err = folder / "stdout.txt", folder / "stderr.txt"
        env = {**pulse.env, "VOICECOACH_STATE_DIR": str(folder / "state")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "voicecoach", "run", "--quiet", "--fresh", "--guide", str(GUIDE)],
            env=env, stdout=self.out.open("w"), stderr=self.err.open("w"), cwd=REPO)

    def wait_for(self, pattern: str, stream: str = "out", timeout: float = 30.0, after: int = 0) -> int:
        """Wait until `pattern` appears in stdout/stderr past offset `after`; returns the end offset."""
        path = self.out if stream == "out" else self.err
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = path.read_text(errors="replace")
            found = re.search(pattern, text[after:])
            if found:
                return after + found.end()
            assert self.process.poll() is None, f"voicecoach ended early:\n{text}\n{self.err.read_text()}"
            time.sleep(0.1)
        raise AssertionError(f"no {pattern!r} within {timeout} s in {stream}:\n{path.read_text()}\n"
                             f"stderr:\n{self.err.read_text()}")

    def offset(self) -> int:
        return len(self.out.read_text(errors="replace"))

    def say(self, pulse: PulseServer, wav: Path, expect_intent: str, timeout: float = 20.0) -> int:
        """Play a command into `mic` (twice more if it was not understood); wait until it is handled."""
        start = self.offset()
        for _ in range(3):
            pulse.play(wav)
            try:
                return self.wait_for(rf"→ {expect_intent}\b", timeout=timeout / 3, after=start)
            except AssertionError:
                continue
        return self.wait_for(rf"→ {expect_intent}\b", timeout=1, after=start)

    def finish(self) -> tuple[int, str, str]:
        try:
            code = self.process.wait(timeout=30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        return code, self.out.read_text(), self.err.read_text()


def _wait_quiet(pulse: PulseServer, folder: Path, seconds: float = 1.0, timeout: float = 30.0) -> None:
    """Wait until the coach has been silent on `spk` for `seconds`."""
    monitor = Monitor(pulse, folder / f"quiet-{time.monotonic_ns()}.wav")
    try:
        monitor.wait_quiet(seconds, timeout)
        assert monitor.quiet_since(seconds), "the coach never fell silent"
    finally:
        monitor.recording.stop()


def _end(run: LiveRun, pulse: PulseServer, synth) -> None:
    """Say goodbye, and yes to "Do you want to stop for today?"."""
    run.say(pulse, synth("goodbye", voice=VOICE), "stop")
    run.wait_for(r"coach> Do you want to stop for today\?")
    _wait_quiet(pulse, run.folder)
    run.say(pulse, synth("yes", voice=VOICE), "yes")


def _saved_step(folder: Path) -> int:
    return json.loads((folder / "state" / "progress-tea-basics.json").read_text())["step"]


def _loud(wav: Path) -> bool:
    return bool(np.abs(read_wav(wav).astype(np.int32)).max() > 1000)


@pytest.fixture
def own_pulse():
    """A daemon of this test's own, since the test kills it (the session-wide one stays untouched)."""
    base = Path(tempfile.mkdtemp(prefix="voicecoach-loss-"))
    holder = {"server": start_pulse(base)}
    yield holder
    holder["server"].stop()


def test_the_audio_system_dies_and_returns_and_the_session_carries_on(own_pulse, synth, tmp_path):
    pulse = own_pulse["server"]
    run = LiveRun(pulse, tmp_path)
    try:
        run.wait_for(r"coach> Welcome")
        _wait_quiet(pulse, tmp_path)
        run.say(pulse, synth("next step", voice=VOICE), "next")
        run.wait_for(r"coach> Step 2 of 3")
        time.sleep(1)  # the crash cuts the reply off: the exact place within it is kept

        pulse.crash()  # both devices vanish at once
        lost = run.wait_for(r"lost the microphone", "err", timeout=15)
        run.wait_for(r"lost the speaker", "err", timeout=15)
        run.wait_for(r"coach> I can't hear the microphone any more")
        time.sleep(7)  # at least two retries while there is nothing to open
        assert run.process.poll() is None
        assert "Traceback" not in run.err.read_text()

        pulse = own_pulse["server"] = pulse.restart()
        run.wait_for(r"the microphone \(.*\) is back", "err", timeout=20, after=lost)
        run.wait_for(r"the speaker \(.*\) is back", "err", timeout=20, after=lost)
        run.wait_for(r"coach> I can hear you again\. Say resume when you're ready\.")
        run.wait_for(r"coach> The sound is back\.")
        _wait_quiet(pulse, tmp_path)

        recording = pulse.start_recording(tmp_path / "after.wav")
        run.say(pulse, synth("where am i", voice=VOICE), "where_am_i")
        run.wait_for(r"coach> Step 2 of 3: .*paused", timeout=10)  # the same place, still paused
        time.sleep(3)
        assert _loud(recording.stop()), "the reply after the return was not heard on the speaker"
        _wait_quiet(pulse, tmp_path)
        run.say(pulse, synth("resume", voice=VOICE), "resume")
        run.wait_for(r"coach> (Picking up where I stopped|Continuing step 2)")
        _wait_quiet(pulse, tmp_path)
        _end(run, pulse, synth)
        code, out, err = run.finish()
    finally:
        if run.process.poll() is None:
            run.process.kill()
    assert code == 0, err
    assert "Traceback" not in err
    assert _saved_step(tmp_path) == 2


def test_an_unloaded_microphone_sink_that_returns_is_listened_to_again(own_pulse, synth, tmp_path):
    """PulseAudio moves the capture to another source while `mic` is gone (here: our own speaker's
    monitor, which the echo filter keeps from being taken for commands) and back when it returns."""
    pulse = own_pulse["server"]
    run = LiveRun(pulse, tmp_path)
    try:
        run.wait_for(r"coach> Welcome")
        _wait_quiet(pulse, tmp_path)
        module = pulse.module_of("mic")
        pulse.run("pactl", "unload-module", module)
        before = run.offset()
        time.sleep(5)  # nothing heard meanwhile may be taken for a command
        pulse.run("pactl", "load-module", "module-null-sink", "sink_name=mic", "rate=48000")
        pulse.run("pactl", "set-default-source", "mic.monitor")
        time.sleep(2)
        assert "→" not in run.out.read_text()[before:]
        run.say(pulse, synth("next step", voice=VOICE), "next")
        run.wait_for(r"coach> Step 2 of 3")
        _end(run, pulse, synth)
        code, out, err = run.finish()
    finally:
        if run.process.poll() is None:
            run.process.kill()
    assert code == 0 and "Traceback" not in err, err
    assert _saved_step(tmp_path) == 2
