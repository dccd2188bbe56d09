"""Speech made ahead: a synthesizer wrapper that keeps the sentences it has spoken and synthesises, while the
listener listens, the first sentence of the reply the coach is most likely to give next ("next step").

A neural voice needs a few hundred milliseconds for a sentence on a small machine, and a reply cannot start
before its first sentence is ready. Most replies are known in advance: the next step's heading, the last
reply again for "repeat", the short acknowledgements. Served from here, their first audio is ready at once.
Only one sentence is made ahead at a time, between replies, so a real reply waits behind it at most once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Callable, Iterator, Sequence

from voicecoach.voice.clip import AudioClip

log = logging.getLogger(__name__)

CAPACITY = 48  # sentences kept (a few seconds of 22 kHz audio each: a few MB in all)
HOLD_POLL_S = 0.03  # how often making ahead looks whether it may go on


class PreparedSpeech:
    """`synthesize`/`synthesize_parts` of the wrapped synthesizer, served from what was made before when
    the same sentence at the same rate was made already; `prepare(sentences, rate)` makes them in the
    background. Everything else (settings, voices, name ...) is the wrapped synthesizer's."""

    def __init__(self, synthesizer, capacity: int = CAPACITY) -> None:
        self._inner = synthesizer
        self._capacity = capacity
        self._made: OrderedDict[tuple[str, int], AudioClip] = OrderedDict()
        self._lock = threading.Lock()
        self._wanted: list[tuple[str, int]] = []
        self._making: tuple[str, int] | None = None
        self._made_one = threading.Condition(self._lock)
        self._work = threading.Event()
        self._closed = False
        self.hits = 0  # sentences served from what was made before
        # Making ahead waits while this says so (the listener speaking, an utterance being understood): the
        # reply to it must not share the processor with a guess at it.
        self.wait_while: Callable[[], bool] | None = None
        self._worker = threading.Thread(target=self._run, name="voicecoach-prepare", daemon=True)
        self._worker.start()

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    # -- what the speakers call ----------------------------------------------------------------------

    def synthesize(self, text: str, rate: int | None = None) -> AudioClip:
        key = self._key(text, rate)
        clip = self._take(key)
        if clip is None:
            clip = self._inner.synthesize(text, rate)
            self._keep(key, clip)
        return clip

    def synthesize_parts(self, text: str, rate: int | None = None) -> Iterator[AudioClip]:
        """A sentence made before comes whole and at once; otherwise the wrapped synthesizer streams it
        clause by clause (when it can), and the whole is kept for next time."""
        key = self._key(text, rate)
        clip = self._take(key)
        if clip is not None:
            yield clip
            return
        streamed = getattr(self._inner, "synthesize_parts", None)
        if streamed is None:
            clip = self._inner.synthesize(text, rate)
            self._keep(key, clip)
            yield clip
            return
        parts: list[AudioClip] = []
        for part in streamed(text, rate):
            parts.append(part)
            yield part
        self._keep(key, _joined(parts))

    def prepare(self, sentences: Sequence[tuple[str, int | None]]) -> None:
        """Make these sentences in the background, each at its rate (None: the voice's own), most likely
        first, replacing what was asked before and not yet made."""
        wanted = [self._key(text, rate) for text, rate in sentences if text.strip()]
        with self._lock:
            self._wanted = [key for key in wanted if key not in self._made]
        if self._wanted:
            self._work.set()

    def is_made(self, text: str, rate: int | None = None) -> bool:
        with self._lock:
            return self._key(text, rate) in self._made

    def close(self) -> None:
        """Stop making speech ahead, and close the wrapped synthesizer when it can be closed."""
        self._closed = True
        self._work.set()
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()

    # -- inside ---------------------------------------------------------------------------------------

    def _key(self, text: str, rate: int | None) -> tuple[str, int]:
        return text.strip(), int(rate if rate is not None else self._inner.settings.rate)

    def _take(self, key: tuple[str, int]) -> AudioClip | None:
        """The clip made for `key`; waits for it when the background is making it right now."""
        with self._made_one:
            while self._making == key:
                self._made_one.wait(0.05)
            clip = self._made.get(key)
            if clip is not None:
                self._made.move_to_end(key)
                self.hits += 1
            return clip

    def _keep(self, key: tuple[str, int], clip: AudioClip) -> None:
        with self._lock:
            self._store(key, clip)

    def _store(self, key: tuple[str, int], clip: AudioClip) -> None:
        """Keep `clip` as the newest, dropping the oldest beyond capacity (the lock held)."""
        self._made[key] = clip
        self._made.move_to_end(key)
        while len(self._made) > self._capacity:
            self._made.popitem(last=False)

    def _run(self) -> None:
        while True:
            self._work.wait()
            while not self._closed and self.wait_while is not None and self.wait_while():
                time.sleep(HOLD_POLL_S)
            if self._closed:
                return
            with self._lock:
                if not self._wanted:
                    self._work.clear()
                    continue
                key = self._wanted.pop(0)
                if key in self._made:
                    continue
                self._making = key
            try:
                clip = _joined(list(self._parts(*key)))
            except Exception:  # made ahead is a nicety: the real reply will synthesise it and say why
                log.debug("making %r ahead failed", key[0], exc_info=True)
                clip = None
            with self._made_one:
                self._making = None
                if clip is not None:
                    self._store(key, clip)
                self._made_one.notify_all()

    def _parts(self, text: str, rate: int) -> Iterator[AudioClip]:
        streamed = getattr(self._inner, "synthesize_parts", None)
        if streamed is None:
            yield self._inner.synthesize(text, rate)
        else:
            yield from streamed(text, rate)


def _joined(parts: list[AudioClip]) -> AudioClip:
    if len(parts) == 1:
        return parts[0]
    import numpy as np

    return AudioClip(np.concatenate([p.samples for p in parts]), parts[0].sample_rate)
