"""`voicecoach run` as a subprocess whose printed lines are collected as they come: for tests and benchmarks
that drive the live coach through real audio devices."""

from __future__ import annotations

import queue
import re
import subprocess
import sys
import threading
import time

# One turn as `voicecoach run` prints it (voicecoach/live.py): when, what was heard (Python's repr, so in
# double quotes when the words hold an apostrophe), with which confidence, the intent, its slots, and why
# it was ignored if it was.
TURN = re.compile(r"(?:\[\s*(?P<at>[\d.]+)s\] )?heard (?P<quote>['\"])(?P<text>.*?)(?P=quote) "
                  r"\((?P<confidence>[0-9.]+)\) → (?P<intent>\w+)(?P<rest>(?P<slots>(?: \w+=\S+)*)"
                  r"(?: \(ignored: (?P<ignored>[^)]*)\))?.*)")


class LiveCoach:
    """A `voicecoach run` subprocess whose printed lines are collected as they come."""

    def __init__(self, env: dict[str, str], *args: str, verbosity: int = 0) -> None:
        """`verbosity`: 1 logs every turn's reason, 2 also its timings (on standard error, read at close())."""
        flags = ["-" + "v" * verbosity] if verbosity else []
        self.process = subprocess.Popen([sys.executable, "-m", "voicecoach", *flags, "run", "--quiet", *args], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.seen: list[tuple[float, str]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def wait_for(self, pattern: str, timeout: float) -> tuple[float, str] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                item = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(item)
            if re.search(pattern, item[1]):
                return item
        return None

    def drain(self) -> list[str]:
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return [line for _, line in self.seen]

    def close(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err
