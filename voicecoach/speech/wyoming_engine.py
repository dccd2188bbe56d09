"""WyomingRecognizer: each utterance streamed to a Wyoming ASR server (Transcribe, AudioStart, AudioChunk…,
AudioStop → Transcript) behind the Recognizer protocol, with the local engine `auto` picks as its
fallback. A server that is down, slow, drops the connection or answers nonsense costs one notice; that
utterance and the following ones are decoded locally until a background probe finds the server again.

The server's Whisper decodes freely and gives text only: the text gets the same noise guards as the local
Whisper engine (its stock inventions, repeated text, more words than the audio can hold), and a fixed
confidence, higher for a command phrase of the guide than for free speech.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterable

import numpy as np

from voicecoach.speech.recognizer import QUIET, Hearing, Recognizer, Transcript
from voicecoach.speech.whisper_engine import HALLUCINATIONS, collapse_repeats, compression_ratio
from voicecoach.speech.wyoming_link import (MAX_EVENTS, Exchange, Failover, WyomingAddress, WyomingError,
                                            LocalFallback, describe, describe_json)
from voicecoach.understanding.text import normalize

log = logging.getLogger(__name__)

ENGINE = "wyoming"
SAMPLE_RATE = 16000
CHUNK_SAMPLES = 1600  # 100 ms per AudioChunk, as satellites send
LANGUAGE = "en"
# seconds a transcript may take: a base for the round trip and the decode, and more per second of audio.
# wyoming-faster-whisper with tiny.en took 0.4-1.5 s per command on this loaded 2-core machine, and once
# 4.4 s with a local Whisper decoding beside it (bench/wyoming.py); a server that needs more than this
# is treated as down for the moment, and the probe takes it back when it answers again.
REQUEST_SECONDS = 5.0
REQUEST_SECONDS_PER_AUDIO_SECOND = 0.5
MIN_AUDIO_S = 0.2  # shorter is a click or a breath (as the local Whisper engine)
COMMAND_CONFIDENCE = 0.9  # the text is one of the guide's command phrases
FREE_CONFIDENCE = 0.75  # other speech: the intent matcher decides what it is
COMPRESSION_MAX = 2.4
WORDS_PER_S_MAX = 6.0


def transcript_from_text(text: str, phrases: frozenset[str], duration: float) -> Transcript:
    """The server's text as a Transcript, or an empty one when it is an invention on noise."""
    words = collapse_repeats(normalize(text))
    if (not words or words in HALLUCINATIONS or compression_ratio(words) > COMPRESSION_MAX
            or len(words.split()) > WORDS_PER_S_MAX * duration + 1):
        return Transcript.empty(ENGINE)
    return Transcript(words, COMMAND_CONFIDENCE if words in phrases else FREE_CONFIDENCE, True, (), ENGINE)


class WyomingRecognizer:
    """A Recognizer that asks a Wyoming ASR server, and the local engine while the server fails.

    `local` builds the local recognizer (called once, in a background thread from the start, so that
    the first fallback does not wait for a model to load); `notice` hears the one-line messages."""

    name = ENGINE

    def __init__(self, address: WyomingAddress, phrases: Iterable[str],
                 local: Callable[[], Recognizer] | None, notice: Callable[[str], None] = lambda m: None,
                 request_seconds: float = REQUEST_SECONDS, retry_seconds: float | None = None,
                 preload: bool = True) -> None:
        self.address = address
        self.phrases = frozenset(normalize(p) for p in phrases if normalize(p))
        self.request_seconds = request_seconds
        kwargs = {} if retry_seconds is None else {"retry_seconds": retry_seconds}
        self.failover = Failover(address, "recognizer", notice, probe=self._probe, **kwargs)
        self._local = LocalFallback(local, "recognizer", preload)
        self.server_info = None
        self.served_by_server = 0
        self.served_locally = 0
        try:
            self.server_info = describe(address)
            log.info("Wyoming ASR server at %s: %s", address.where, describe_json(self.server_info))
            if not self.server_info.asr:
                self.failover.failed("it offers no speech recognition", self.local_name())
        except WyomingError as error:
            self.failover.failed(error, self.local_name())

    # -- the protocol ---------------------------------------------------------------------------------

    def recognize(self, samples: np.ndarray, hearing: Hearing = QUIET) -> Transcript:
        duration = len(samples) / SAMPLE_RATE
        if duration < MIN_AUDIO_S:
            return Transcript.empty(ENGINE)
        text = self.failover.attempt(lambda: self.transcribe(samples), self.local_name())
        if text is not None:
            self.served_by_server += 1
            return transcript_from_text(text, self.phrases, duration)
        local = self.local()
        if local is None:
            return Transcript.empty(ENGINE)
        self.served_locally += 1
        return local.recognize(samples, hearing)

    def partial(self, samples: np.ndarray) -> str:
        return ""

    # -- steps ----------------------------------------------------------------------------------------

    def transcribe(self, samples: np.ndarray) -> str:
        """The server's text for one utterance; WyomingError on any fault."""
        from wyoming.asr import Transcribe
        from wyoming.asr import Transcript as WyomingTranscript
        from wyoming.audio import AudioChunk, AudioStart, AudioStop
        from wyoming.error import Error

        pcm = np.ascontiguousarray(samples, dtype="<i2")
        deadline = self.request_seconds + REQUEST_SECONDS_PER_AUDIO_SECOND * len(pcm) / SAMPLE_RATE
        with Exchange(self.address, deadline) as exchange:
            exchange.send(Transcribe(language=LANGUAGE))
            exchange.send(AudioStart(rate=SAMPLE_RATE, width=2, channels=1))
            for start in range(0, len(pcm), CHUNK_SAMPLES):
                exchange.send(AudioChunk(rate=SAMPLE_RATE, width=2, channels=1,
                                         audio=pcm[start:start + CHUNK_SAMPLES].tobytes()))
            exchange.send(AudioStop())
            for _ in range(MAX_EVENTS):
                event = exchange.receive()
                if WyomingTranscript.is_type(event.type):
                    text = event.data.get("text")
                    if not isinstance(text, str):
                        raise WyomingError("its transcript has no text")
                    return text
                if Error.is_type(event.type):
                    raise WyomingError(f"it reported an error: {event.data.get('text', '')!s:.200}")
        raise WyomingError("it never sent a transcript")

    def _probe(self) -> None:
        """A half second of silence, transcribed: the server is back when it answers a real request."""
        self.transcribe(np.zeros(SAMPLE_RATE // 2, np.int16))

    def local_name(self) -> str:
        """The local engine's name, for the notices (without waiting for it to load)."""
        if self._local.engine is not None:
            return f"the local {self._local.engine.name} engine"
        return "the local engine" if self._local.build is not None else "nothing (no local engine)"

    def local(self) -> Recognizer | None:
        """The local recognizer, built now if it was not preloaded; None if it cannot be built."""
        return self._local.get()

    def close(self) -> None:
        self.failover.close()
