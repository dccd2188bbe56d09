"""A recognizer in its own process, so a long decode never holds up the audio callbacks.

PocketSphinx keeps Python's global interpreter lock for a whole utterance (about 0.2 s per second of
audio). In the live loop that starved the playback and microphone callbacks: output underruns, each a
silent gap of about 2 s through PulseAudio, and lost microphone audio. In a child process the decode
runs beside the audio threads instead of in their way. The child ends when its pipe closes, so it never
outlives the session, even after kill -9.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from voicecoach.errors import ModelError
from voicecoach.speech.recognizer import QUIET, Hearing, Transcript

log = logging.getLogger(__name__)

START_TIMEOUT = 120.0  # seconds to import the engine and build the grammar (a Pi with a large model)
CALL_TIMEOUT = 30.0  # seconds for one utterance, far above any real decode


class RecognizerProcess:
    """A Recognizer (see speech.recognizer) whose engine, built by `build_recognizer`, runs in a child."""

    def __init__(self, phrases: Iterable[str], engine: str = "auto", model: str | Path | None = None,
                 notice: Callable[[str], None] = lambda message: None) -> None:
        self._arguments = (list(phrases), engine, str(model) if model is not None else None)
        self._notice = notice
        self.name = engine
        self._connection: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._start()

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")  # no fork: the parent has audio threads running
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs, *self._arguments), daemon=True,
                                  name="voicecoach-recognizer")
        process.start()
        theirs.close()
        self._connection, self._process = ours, process
        reply = self._receive(START_TIMEOUT, "starting")
        if reply[0] == "error":
            self.close()
            raise ModelError(reply[1], reply[2])
        _, self.name, notices = reply
        for message in notices:
            self._notice(message)

    def recognize(self, samples: np.ndarray, hearing: Hearing = QUIET) -> Transcript:
        return self._call("recognize", samples, Transcript.empty(self.name), hearing)

    def partial(self, samples: np.ndarray) -> str:
        return self._call("partial", samples, "")

    def _call(self, method: str, samples: np.ndarray, fallback, *arguments):
        """One request; if the child died or hung, log it, start a new one and return `fallback`."""
        try:
            assert self._connection is not None
            self._connection.send((method, np.ascontiguousarray(samples, dtype=np.int16), *arguments))
            reply = self._receive(CALL_TIMEOUT, method)
            for message in reply[2] if len(reply) > 2 else ():  # e.g. a remote server failed or came back
                self._notice(message)
            return reply[1]
        except (OSError, EOFError, TimeoutError) as error:
            log.warning("the recognizer process failed (%s); starting a new one", error)
            self.close()
            self._start()
            return fallback

    def _receive(self, timeout: float, doing: str) -> tuple:
        assert self._connection is not None
        if not self._connection.poll(timeout):
            raise TimeoutError(f"no answer from the recognizer process after {timeout:.0f} s ({doing})")
        return self._connection.recv()

    def close(self) -> None:
        """Stop the child (it also stops by itself when this process ends)."""
        if self._connection is not None:
            try:
                self._connection.send(None)
            except OSError:
                pass
            self._connection.close()
            self._connection = None
        if self._process is not None:
            self._process.join(2)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(2)
            self._process = None

    def __enter__(self) -> "RecognizerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(connection: Connection, phrases: list[str], engine: str, model: str | None) -> None:
    """The child: build the recognizer, then answer (method, samples, *arguments) requests (arguments: the
    Hearing of a recognize) until None or EOF."""
    from voicecoach.speech.engine import build_recognizer

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it then closes the pipe

    notices: list[str] = []  # appended from any thread (a remote engine's probe); sent with the next reply
    try:
        recognizer = build_recognizer(phrases, engine, model, notice=notices.append)
    except ModelError as error:
        connection.send(("error", error.message, error.hint))
        return
    connection.send(("ready", recognizer.name, _drain(notices)))
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        method, samples, *arguments = request
        try:
            result = getattr(recognizer, method)(samples, *arguments)
            connection.send(("ok", result, _drain(notices)))
        except (BrokenPipeError, OSError):
            return


def _drain(notices: list[str]) -> list[str]:
    """The notices so far, taken out of the list (list.pop is atomic, so another thread may append)."""
    taken = []
    while notices:
        taken.append(notices.pop(0))
    return taken
