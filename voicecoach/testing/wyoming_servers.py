"""Real Wyoming servers on 127.0.0.1 for tests and benchmarks: wyoming-faster-whisper on the verified
faster-whisper-tiny.en folder and wyoming-piper on the verified en_US-joe-medium voice (no downloads:
both are pointed at the checked files in models/), plus tiny misbehaving servers (silent, nonsense,
hanging up mid-request) as plain sockets."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SERVER_START_TIMEOUT = 120.0  # seconds: two shared cores, a model to load


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def missing_servers() -> str | None:
    """Why the real servers cannot run here (a package or a verified model missing), or None."""
    for module in ("wyoming", "wyoming_faster_whisper", "wyoming_piper"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[test]')"
    if whisper_folder() is None:
        return "no verified faster-whisper-tiny.en model (scripts/setup installs it)"
    if piper_folder() is None:
        return "no verified en_US-joe-medium voice (scripts/setup installs it)"
    return None


def whisper_folder() -> Path | None:
    from voicecoach.speech.engine import whisper_model_folder
    return whisper_model_folder()


def piper_folder() -> Path | None:
    from voicecoach.errors import ModelError
    from voicecoach.voice.piper_engine import get_piper_voice, voice_folder
    try:
        return voice_folder(get_piper_voice())
    except ModelError:
        return None


class WyomingServer:
    """One real server process on 127.0.0.1:`port`; stop() kills it (by its pid), start() brings it back
    on the same port."""

    def __init__(self, kind: str, port: int | None = None, log_dir: Path | None = None) -> None:
        self.kind = kind  # "asr" or "tts"
        self.port = port or free_port()
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix=f"voicecoach-wyoming-{kind}-"))
        self.process: subprocess.Popen | None = None
        self.log_path = self.log_dir / f"{kind}-{self.port}.log"

    @property
    def uri(self) -> str:
        return f"wyoming://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        uri = f"tcp://127.0.0.1:{self.port}"
        if self.kind == "asr":
            # int8 and 2 threads as the local engine; the model is the verified folder (no hub lookup)
            return [sys.executable, "-m", "wyoming_faster_whisper", "--uri", uri, "--model", str(whisper_folder()),
                    "--data-dir", str(self.log_dir / "data"), "--stt-library", "faster-whisper",
                    "--local-files-only", "--language", "en", "--compute-type", "int8", "--cpu-threads", "2"]
        voice = piper_folder()
        assert voice is not None
        # the data dir is the verified voice folder: wyoming-piper finds <voice>.onnx(.json) there
        return [sys.executable, "-m", "wyoming_piper", "--uri", uri, "--voice", "en_US-joe-medium",
                "--data-dir", str(voice), "--download-dir", str(self.log_dir / "downloads"), "--debug"]

    def start(self, wait: bool = True) -> "WyomingServer":
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        if wait:
            try:
                self.wait_ready()
            except BaseException:  # never leave a server behind that nobody will stop
                self.stop()
                raise
        return self

    def wait_ready(self, timeout: float = SERVER_START_TIMEOUT) -> float:
        """Seconds until the server answered Describe; RuntimeError with its log if it never did."""
        from voicecoach.speech.wyoming_link import WyomingError, describe, parse_address

        started = time.monotonic()
        address = parse_address(self.uri)
        while time.monotonic() - started < timeout:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                describe(address, timeout=2.0)
                return time.monotonic() - started
            except WyomingError:
                time.sleep(0.2)
        raise RuntimeError(f"the {self.kind} server did not start:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        """Kill it, as a crash would (SIGKILL to its own pid)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def requests_logged(self, marker: str) -> int:
        return self.log_path.read_text(errors="replace").count(marker) if self.log_path.exists() else 0


class FakeServer:
    """A TCP server on 127.0.0.1 that answers Describe like a healthy ASR and TTS server, and misbehaves on
    every other request as `mode` says:
    "silent" (reads, never answers), "nonsense" (answers a line that is no event), "hang-up" (reads a
    little, then closes mid-request), "trickle" (sends a byte of a valid-looking line every half second)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.port = self._socket.getsockname()[1]
        self.connections = 0
        self.requests = 0
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def uri(self) -> str:
        return f"wyoming://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        self._socket.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._socket.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            self._open.append(client)
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(0.5)
        try:
            first = _first_line(client)
            if b'"describe"' in first:  # it looks healthy to a Describe (startup, probes) ...
                from wyoming.event import write_event
                with client.makefile("wb") as out:
                    write_event(_fake_info().event(), out)
                client.close()
                return
            self.requests += 1  # ... and misbehaves on real requests
            if self.mode == "silent":
                while not self._stop.is_set():
                    try:
                        if not client.recv(65536):
                            return
                    except socket.timeout:
                        continue
            if self.mode == "nonsense":
                client.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n<html>no</html>\n")
                time.sleep(0.3)
            elif self.mode == "trickle":
                for byte in b'{"type": "transcript", "data": {"text": "next step"}}':
                    if self._stop.wait(0.5):
                        return
                    client.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            if self.mode != "silent":
                client.close()

    def close(self) -> None:
        self._stop.set()
        for client in self._open:
            try:
                client.close()
            except OSError:
                pass
        self._socket.close()


def _first_line(client: socket.socket, patience: float = 10.0) -> bytes:
    line = b""
    started = time.monotonic()
    while b"\n" not in line and len(line) < 65536 and time.monotonic() - started < patience:
        try:
            chunk = client.recv(1)
        except socket.timeout:
            continue
        if not chunk:
            break
        line += chunk
    return line


def _fake_info():
    from wyoming.info import AsrModel, AsrProgram, Attribution, Info, TtsProgram, TtsVoice

    who = Attribution(name="test", url="http://127.0.0.1/")
    return Info(asr=[AsrProgram(name="fake-asr", attribution=who, installed=True, description="misbehaves",
                                version="0", models=[AsrModel(name="fake", attribution=who, installed=True,
                                                              description="fake", version="0", languages=["en"])])],
                tts=[TtsProgram(name="fake-tts", attribution=who, installed=True, description="misbehaves",
                                version="0", voices=[TtsVoice(name="fake", attribution=who, installed=True,
                                                              description="fake", version="0", languages=["en"])])])
