"""The recognizer, asked for one thing at a time, with decoding ahead: while an utterance's pause may still turn
out to be its end, a background thread decodes it, so the decision at the pause finds the transcript ready
(session.py asks; the endpointer offers what to decode: audio/endpoint.py)."""

from __future__ import annotations

import logging
import threading
from typing import Hashable

import numpy as np

from voicecoach.speech.recognizer import Hearing, Recognizer, Transcript

log = logging.getLogger(__name__)

# Engines that decode each utterance on its own, so that a decode made ahead (with zeros for the silence still to
# come) is what the pause would give. Not PocketSphinx: it adapts its cepstral mean from every decode, the zeros
# decoded ahead skewed it, and later words lost their first one ("move on" heard as "on"; bench/soak.py, 30 min:
# 290 -> 283 of 293 commands handled).
DECODES_AHEAD = frozenset({"whisper"})


def decodes_ahead(recognizer: Recognizer) -> bool:
    """Whether utterances may be decoded ahead for `recognizer` (by its engine's name)."""
    return getattr(recognizer, "name", "") in DECODES_AHEAD


class DecodeAhead:
    """The recognizer, asked for one thing at a time: by the loop, or by a thread that decodes an utterance ahead
    while its pause may still turn out to be its end.

    One request ahead at a time: a newer one replaces one not started yet, and a decode under way is never
    stopped, only left unused (it costs CPU, and at most one decode's wait to whoever asks next). Each result is
    kept under the key it was asked with until it is taken or a newer request is made."""

    def __init__(self, recognizer: Recognizer) -> None:
        self.recognizer = recognizer
        self.made = 0  # decodes made ahead
        self.used = 0  # ... and taken (the rest were wasted: the speech went on)
        self._decoding = threading.Lock()  # held for every call into the recognizer
        self._state = threading.Condition()
        self._wanted: tuple[Hashable, np.ndarray] | None = None
        self._running: Hashable | None = None
        self._done: tuple[Hashable, Transcript | None] | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    def recognize(self, samples: np.ndarray, hearing: Hearing | None = None) -> Transcript:
        with self._decoding:
            if hearing is None:
                return self.recognizer.recognize(samples)
            return self.recognizer.recognize(samples, hearing)

    def ahead(self, key: Hashable, samples: np.ndarray) -> None:
        """Decode `samples` (heard while the coach is silent) in the background, for `take(key)`."""
        with self._state:
            if self._closed:
                return
            self._wanted, self._done = (key, samples), None
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="voicecoach-decode-ahead", daemon=True)
                self._thread.start()
            self._state.notify_all()

    def take(self, key: Hashable) -> Transcript | None:
        """The transcript decoded ahead under `key`, waiting while it is being made; None when it was not asked
        for, was replaced, or failed."""
        with self._state:
            while True:
                if self._done is not None and self._done[0] == key:
                    heard, self._done = self._done[1], None
                    self.used += heard is not None
                    return heard
                if self._running != key and (self._wanted is None or self._wanted[0] != key):
                    return None
                self._state.wait()

    def drop(self) -> None:
        """Forget a request not started yet (the speech went on)."""
        with self._state:
            self._wanted = None

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread, once the decode it is making (if any) is over."""
        with self._state:
            self._closed, self._wanted = True, None
            self._state.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _serve(self) -> None:
        while True:
            with self._state:
                while self._wanted is None and not self._closed:
                    self._state.wait()
                if self._closed:
                    return
                (key, samples), self._wanted = self._wanted, None
                self._running = key
            heard: Transcript | None = None
            try:
                heard = self.recognize(samples)
            except Exception:  # the loop decodes it again itself, and meets the error there
                log.exception("decoding ahead failed")
            with self._state:
                self._running = None
                self.made += 1
                if self._wanted is None:  # else a newer request makes this one useless
                    self._done = (key, heard)
                self._state.notify_all()
