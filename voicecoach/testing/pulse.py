"""Real audio devices for tests and benchmarks: a private PulseAudio daemon with null sinks `mic` (what the
program hears) and `spk` (what it says), its default source `mic.monitor` and default sink `spk`.
`play(wav)` plays into `mic`; `record`/`start_recording` capture `spk.monitor`; `env` is the environment
for subprocesses that should use it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

WAV_HEADER = 44  # bytes before the samples in the WAV files parec writes


@dataclass
class Recording:
    """A running `parec` capture of a sink monitor; `stop()` ends it and returns the WAV path."""

    path: Path
    process: subprocess.Popen
    rate: int = 16000
    began: float = 0.0  # time.monotonic() when the first samples reached the file

    def samples_written(self) -> int:
        return max(0, (self.path.stat().st_size - WAV_HEADER) // 2) if self.path.exists() else 0

    def samples(self) -> "np.ndarray":
        """The 16-bit samples written so far (parec's WAV header is final only once it stops)."""
        import numpy as np

        raw = self.path.read_bytes()[WAV_HEADER:] if self.path.exists() else b""
        return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2")

    def quiet_for(self, seconds: float, within: float, level: float = 100) -> bool:
        """Wait up to `within` seconds for the last `seconds` recorded to be silent (RMS under `level`)."""
        deadline = time.monotonic() + within
        while True:
            tail = self.samples()[-int(seconds * self.rate):].astype(float)
            if len(tail) == int(seconds * self.rate) and (tail ** 2).mean() ** 0.5 < level:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    def stop(self) -> Path:
        """End the capture once it holds everything up to now: on a busy host parec writes late."""
        if self.process.poll() is None:
            due = int((time.monotonic() - self.began - 0.05) * self.rate)
            deadline = time.monotonic() + 3
            while self.samples_written() < due and time.monotonic() < deadline and self.process.poll() is None:
                time.sleep(0.02)
            self.process.send_signal(signal.SIGINT)  # pacat finalises the WAV header on SIGINT
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.path


@dataclass
class PulseServer:
    """A private PulseAudio daemon with null sinks `mic` and `spk` (see the module docstring)."""

    runtime_dir: Path
    daemon: subprocess.Popen
    env: dict[str, str]
    _children: list[subprocess.Popen] = field(default_factory=list)

    def run(self, *command: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run a command (pactl, paplay, voicecoach ...) against this daemon."""
        return subprocess.run(list(command), env=self.env, check=True, capture_output=True, text=True,
                              timeout=timeout)

    def play(self, wav: Path, sink: str = "mic", wait: bool = True) -> subprocess.Popen:
        """Play a WAV into `sink` (default `mic`, what the program's microphone hears)."""
        process = subprocess.Popen(["paplay", f"--device={sink}", str(wav)], env=self.env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._children.append(process)
        if wait:
            _, err = process.communicate(timeout=60)
            if process.returncode != 0:
                raise RuntimeError(f"paplay failed: {err.decode(errors='replace')}")
        return process

    def start_recording(self, path: Path, source: str = "spk.monitor", rate: int = 16000) -> Recording:
        """Start capturing `source` (default: what the program played) into a 16-bit mono WAV."""
        process = subprocess.Popen(
            ["parec", f"--device={source}", "--file-format=wav", f"--rate={rate}", "--channels=1",
             "--format=s16le", "--latency-msec=20", str(path)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._children.append(process)
        recording = Recording(Path(path), process, rate)
        # The first capture on a new daemon starts about 1.9 s after parec does; sound played before the
        # samples flow is lost, so return only once they do.
        deadline = time.monotonic() + 15
        while recording.samples_written() == 0:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"parec recorded nothing from {source} within 15 s")
            time.sleep(0.01)
        recording.began = time.monotonic() - recording.samples_written() / rate
        return recording

    def record(self, path: Path, seconds: float, source: str = "spk.monitor", rate: int = 16000) -> Path:
        """Capture `source` for `seconds` and return the WAV path."""
        recording = self.start_recording(path, source, rate)
        time.sleep(seconds)
        return recording.stop()

    def stop(self) -> None:
        for child in self._children:
            if child.poll() is None:
                child.kill()
                child.wait()
        if self.daemon.poll() is None:
            self.daemon.terminate()  # by its own PID, never by name
            try:
                self.daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()

    @property
    def pid(self) -> int:
        return self.daemon.pid

    def crash(self) -> None:
        """Kill the daemon outright: every stream on it fails, as when the audio system dies."""
        self.daemon.kill()
        self.daemon.wait()

    def restart(self) -> "PulseServer":
        """A new daemon on the same socket with the same devices (after `crash()`)."""
        self.stop()
        return start_pulse(self.runtime_dir.parent)

    def module_of(self, sink: str) -> str:
        """The index of the module that made the null sink `sink`."""
        for line in self.run("pactl", "list", "short", "modules").stdout.splitlines():
            if f"sink_name={sink} " in line + " ":
                return line.split()[0]
        raise LookupError(sink)


def start_pulse(base: Path) -> PulseServer:
    """Start a private daemon in `base` (its runtime, config and log live there); RuntimeError if it fails."""
    runtime = base / "runtime"
    config = base / "config"
    for stale in (runtime, config):  # left by a daemon that was stopped, on a restart
        shutil.rmtree(stale, ignore_errors=True)
    runtime.mkdir(mode=0o700)
    config.mkdir()
    socket = runtime / "pulse" / "native"
    # HOME is private, but the cache of encoded examples and verified hashes stays the user's: a real user's
    # machine has it warm after `scripts/setup` or a first session, and rebuilding it in every run costs a minute.
    from voicecoach.assets.verify import hash_cache_path

    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), XDG_CONFIG_HOME=str(config), HOME=str(base),
               PULSE_SERVER=f"unix:{socket}",
               VOICECOACH_CACHE_DIR=os.environ.get("VOICECOACH_CACHE_DIR") or str(hash_cache_path().parent))
    env.pop("PULSE_SINK", None)
    env.pop("PULSE_SOURCE", None)
    daemon = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         "--disable-shm=yes", "--load=module-native-protocol-unix auth-anonymous=1",
         "--load=module-null-sink sink_name=mic rate=48000",
         "--load=module-null-sink sink_name=spk rate=48000", "--load=module-always-sink"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(base / "pulseaudio.log", "wb"))
    server = PulseServer(runtime, daemon, env)
    deadline = time.monotonic() + 15
    while True:
        if daemon.poll() is not None:
            log = (base / "pulseaudio.log").read_text(errors="replace")
            raise RuntimeError(f"pulseaudio exited with {daemon.returncode}:\n{log[-2000:]}")
        if socket.exists() and subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode == 0:
            break
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("pulseaudio did not come up within 15 s")
        time.sleep(0.1)
    server.run("pactl", "set-default-source", "mic.monitor")
    server.run("pactl", "set-default-sink", "spk")
    return server
