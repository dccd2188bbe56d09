"""The Speaker interface: speak text (blocking or in the background), stop it from any thread, and learn
how far it got. SpeechResult and SpeechTask are the values that cross into the coach and the live loop."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

from voicecoach.sentences import split_sentences


@dataclass(frozen=True)
class SpeechResult:
    """What happened to one utterance. `sentences_spoken` counts sentences heard to their end."""

    text: str
    sentences: tuple[str, ...]
    sentences_spoken: int
    stopped: bool
    started_at: float  # time.monotonic() when the first sample was due at the output (or the call)
    ended_at: float    # when the last sample was due at the output, or when stop took effect

    @property
    def completed(self) -> bool:
        return not self.stopped and self.sentences_spoken == len(self.sentences)

    @property
    def unspoken(self) -> tuple[str, ...]:
        """The sentences to say again on resume (the interrupted one first)."""
        return self.sentences[self.sentences_spoken:]


class SpeechTask:
    """Handle for background speech: `wait()` for the result, `done` tells whether it has ended."""

    def __init__(self, on_done: Callable[[SpeechResult], None] | None = None) -> None:
        self._event = threading.Event()
        self._result: SpeechResult | None = None
        self._error: BaseException | None = None
        self._on_done = on_done

    @property
    def done(self) -> bool:
        return self._event.is_set()

    @property
    def result(self) -> SpeechResult | None:
        return self._result

    def wait(self, timeout: float | None = None) -> SpeechResult | None:
        """The result, or None if still speaking after `timeout`; re-raises a failure of the speaker."""
        if not self._event.wait(timeout):
            return None
        if self._error is not None:
            raise self._error
        return self._result

    def _finish(self, result: SpeechResult | None, error: BaseException | None = None) -> None:
        self._result, self._error = result, error
        self._event.set()
        if self._on_done is not None and result is not None:
            self._on_done(result)


@runtime_checkable
class Speaker(Protocol):
    """Speaks text. One utterance at a time: a new one first stops the one in progress."""

    rate: int | None  # words per minute for the next sentence; None keeps the voice's own rate

    @property
    def speaking(self) -> bool: ...

    def speak(self, text: str, rate: int | None = None) -> SpeechResult: ...

    def speak_async(self, text: str, rate: int | None = None,
                    on_done: Callable[[SpeechResult], None] | None = None) -> SpeechTask: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class BaseSpeaker:
    """Shared plumbing: sentence splitting, one-at-a-time, and `speak_async` on a thread over `speak`."""

    def __init__(self, rate: int | None = None) -> None:
        self.rate = rate
        self._turn = threading.Lock()
        self._stop_event = threading.Event()
        self._busy = threading.Event()

    @property
    def speaking(self) -> bool:
        return self._busy.is_set()

    def speak(self, text: str, rate: int | None = None) -> SpeechResult:
        """Say `text` and return when it has been said or stopped."""
        self._take_turn()
        try:
            return self._run(text, rate)
        finally:
            self._end_turn()

    def speak_async(self, text: str, rate: int | None = None,
                    on_done: Callable[[SpeechResult], None] | None = None) -> SpeechTask:
        """Start saying `text` and return at once; `on_done` runs on the speaking thread.

        A stop() right after this call already applies to the new utterance."""
        self._take_turn()
        task = SpeechTask(on_done)

        def run() -> None:
            try:
                result = self._run(text, rate)
            except BaseException as error:  # handed to whoever waits on the task
                self._end_turn()
                task._finish(None, error)
            else:
                self._end_turn()
                task._finish(result)

        threading.Thread(target=run, name="voicecoach-speak", daemon=True).start()
        return task

    def _take_turn(self) -> None:
        self.stop()
        self._turn.acquire()
        self._stop_event.clear()
        self._busy.set()

    def _end_turn(self) -> None:
        self._busy.clear()
        self._turn.release()

    def _run(self, text: str, rate: int | None) -> SpeechResult:
        if rate is not None:
            self.rate = rate
        return self._speak(text, tuple(split_sentences(text)))

    def stop(self) -> None:
        """Stop the current utterance (if any); returns quickly, callable from any thread."""
        if self._busy.is_set():
            self._stop_event.set()
            self._on_stop()

    def close(self) -> None:
        self.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # For subclasses.
    def _speak(self, text: str, sentences: tuple[str, ...]) -> SpeechResult:
        raise NotImplementedError

    def _on_stop(self) -> None:
        """Hook for an immediate reaction to stop() (the flag is already set)."""

    @staticmethod
    def _now() -> float:
        return time.monotonic()
