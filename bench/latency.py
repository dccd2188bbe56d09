"""Live-loop latency over real audio devices (a private PulseAudio daemon with null sinks `mic` and `spk`).

`voicecoach run` listens on the default devices. Commands are played into `mic`; what the coach says is
recorded from `spk`'s monitor. Measured: end of each command → first audible reply (p50, p95), barge-in
(end of "stop" → the coach's voice stops), and the process's RSS and CPU while idle-listening.

    .venv/bin/python bench/latency.py [--commands 30]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from voicecoach.testing.pulse import start_pulse  # noqa: E402
from voicecoach.audio.synth import cached_synthesis  # noqa: E402

GUIDE = REPO / "content" / "relationship-ten-steps.yaml"
VOICE = "flite:slt"
COMMANDS = ["where am i", "next step", "repeat that", "go back", "summarize", "give me an example",
            "go to step three", "slower", "faster", "what step are we on"]
LOUD = 500  # sample level that counts as audible on the null sink
RATE = 16000


class Monitor:
    """Records spk.monitor; maps any monotonic time to a sample of the recording.

    parec may connect late (a busy start-up) and writes in bursts, so the moment the recording started is
    estimated from the file itself: at time t with n samples written, it started no later than t - n/RATE;
    the smallest such bound over all reads is the estimate."""

    def __init__(self, pulse, path: Path) -> None:
        self.path = path
        self.recording = pulse.start_recording(path)
        self.started = float("inf")
        while len(self.samples()) < RATE // 2:  # half a second recorded: the estimate is settled
            time.sleep(0.02)

    def samples(self) -> np.ndarray:
        # parec's WAV header is final only at the end: read the raw bytes written so far
        raw = self.path.read_bytes()[44:] if self.path.exists() else b""
        read_at = time.monotonic()  # after the read: every sample counted was written by now
        data = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2")
        if len(data):
            self.started = min(self.started, read_at - len(data) / RATE)
        return data

    def first_sound_after(self, moment: float, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = self.samples()
            start = max(0, int((moment - self.started) * RATE))
            loud = np.flatnonzero(np.abs(data[start:].astype(np.int32)) > LOUD)
            if len(loud):
                return self.started + (start + loud[0]) / RATE
            time.sleep(0.05)
        return None

    def wait_covered(self, moment: float, timeout: float = 15.0) -> None:
        """Wait until the recording (written with some delay by parec) reaches `moment`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.samples()) < (moment - self.started) * RATE:
            time.sleep(0.05)

    def quiet_since(self, seconds: float) -> bool:
        data = self.samples()
        tail = data[-int(seconds * RATE):]
        return len(tail) >= int(seconds * RATE) * 0.9 and not np.any(np.abs(tail.astype(np.int32)) > LOUD)

    def wait_quiet(self, seconds: float = 0.8, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.quiet_since(seconds):
            time.sleep(0.1)


def play(pulse, wav: Path) -> float:
    """Play into `mic`; returns the monotonic time the command ended."""
    pulse.play(wav, wait=True)
    return time.monotonic()


def proc_stats(pid: int) -> tuple[int, float]:
    """(RSS in KiB, CPU seconds used so far) of the process and its children (the recognizer process)."""
    rss, ticks = 0, 0
    for member in _family(pid):
        try:
            rss += int(next(line for line in open(f"/proc/{member}/status") if line.startswith("VmRSS")).split()[1])
            fields = open(f"/proc/{member}/stat").read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, StopIteration):
            continue
    return rss, ticks / 100.0


def _family(pid: int) -> list[int]:
    members = [pid]
    for member in members:
        for task in Path(f"/proc/{member}/task").glob("*/children"):
            members += [int(child) for child in task.read_text().split()]
    return members


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=30)
    parser.add_argument("--barge-ins", type=int, default=5)
    parser.add_argument("--hangover-ms", type=int, default=None, help="passed to voicecoach run")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="voicecoach-latency-"))
    pulse = start_pulse(base)
    env = {**pulse.env, "VOICECOACH_STATE_DIR": str(base / "state")}
    cache = base / "speech"
    extra = ["--hangover-ms", str(args.hangover_ms)] if args.hangover_ms else []
    process = subprocess.Popen([sys.executable, "-m", "voicecoach", "run", "--quiet", "--fresh", "--guide", str(GUIDE),
                                *extra],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    monitor = Monitor(pulse, base / "spk.wav")
    try:
        assert monitor.first_sound_after(monitor.started, 60), "the coach never spoke"
        monitor.wait_quiet()
        latencies, missed = [], 0
        for index in range(args.commands):
            text = COMMANDS[index % len(COMMANDS)]
            ended = play(pulse, cached_synthesis(text, cache, VOICE))
            reply = monitor.first_sound_after(ended, 5.0)
            if reply is None:
                missed += 1
            else:
                latencies.append((reply - ended) * 1000)
            monitor.wait_quiet()

        barge = []
        acknowledgement = _acknowledgement()
        for _ in range(args.barge_ins):
            play(pulse, cached_synthesis("list the steps", cache, VOICE))
            onset = monitor.first_sound_after(time.monotonic() - 1, 5.0)
            time.sleep(max(0.0, (onset or time.monotonic()) + 1.5 - time.monotonic()))
            ended = play(pulse, cached_synthesis("stop", cache, VOICE))
            monitor.wait_covered(ended + 4.0)
            # The coach cuts its reading and says "Paused. ..." at once: find that acknowledgement in the
            # recording by cross-correlation; its start is (a little after) the moment the voice was cut.
            cut = _find(monitor.samples(), acknowledgement, int((ended - monitor.started) * RATE), 4 * RATE)
            if cut is not None:
                barge.append(max(0.0, (monitor.started + cut / RATE - ended) * 1000))
            monitor.wait_quiet()
            resumed = play(pulse, cached_synthesis("resume", cache, VOICE))
            monitor.first_sound_after(resumed, 5.0)
            monitor.wait_quiet()

        rss_before, cpu_before = proc_stats(process.pid)
        time.sleep(10)
        rss_after, cpu_after = proc_stats(process.pid)
    finally:
        process.terminate()
        said, errors = process.communicate(timeout=20)
        Path(base / "coach.log").write_text(said)
        monitor.recording.stop()
        pulse.stop()

    print("| measure | value | aim |\n|---|---|---|")
    print(f"| commands played | {args.commands} (no reply within 5 s: {missed}) | |")
    if latencies:
        print(f"| end of command → first audible reply, p50 | {percentile(latencies, 0.5):.0f} ms | ≤ 400 ms |")
        print(f"| end of command → first audible reply, p95 | {percentile(latencies, 0.95):.0f} ms | ≤ 700 ms |")
    if barge:
        print(f"| barge-in: end of \"stop\" → voice cut, median (n={len(barge)}) | {statistics.median(barge):.0f} ms | ≤ 500 ms |")
    else:
        print("| barge-in | no cut detected | ≤ 500 ms |")
    print(f"| RSS while idle-listening (with the recognizer process) | {rss_after / 1024:.0f} MB | < 200 MB |")
    underruns = errors.count("underrun occurred")
    print(f"| output underruns (playback gaps from CPU stalls) | {underruns} | 0 |")
    print(f"| the coach's log | {base / 'coach.log'} | |")
    print(f"| CPU while idle-listening | {100 * (cpu_after - cpu_before) / 10:.1f}% of one core | < 15% |")


def _acknowledgement() -> np.ndarray:
    """The start of the coach's "Paused." reply, as the coach's voice says it."""
    from voicecoach.audio.frames import resample_to_16k
    from voicecoach.coach.state import DEFAULT_RATE
    from voicecoach.voice.synthesizer import Synthesizer

    clip = Synthesizer().synthesize("Paused.", rate=DEFAULT_RATE)
    samples = resample_to_16k(np.asarray(clip.samples), clip.sample_rate).astype(np.float64)
    loud = np.flatnonzero(np.abs(samples) > LOUD)
    return samples[loud[0]: loud[0] + int(0.4 * RATE)]


def _find(recording: np.ndarray, pattern: np.ndarray, start: int, length: int) -> int | None:
    """Where `pattern` best matches in recording[start:start+length] (normalised correlation > 0.6)."""
    window = recording[start:start + length].astype(np.float64)
    if len(window) < len(pattern):
        return None
    scores = np.correlate(window, pattern, mode="valid")
    energy = np.sqrt(np.convolve(window ** 2, np.ones(len(pattern)), mode="valid")) * np.linalg.norm(pattern)
    normalised = scores / np.maximum(energy, 1e-9)
    best = int(np.argmax(normalised))
    return start + best if normalised[best] > 0.6 else None


if __name__ == "__main__":
    main()
