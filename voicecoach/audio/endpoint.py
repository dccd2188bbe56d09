"""Endpointing: cut utterances out of a stream of 30 ms frames with webrtcvad, pre-roll and hangover.

Adaptive endpointing: at the first short pause (`early_ms` of silence) in a short utterance, the endpointer
offers the audio so far to be judged (`pause_to_judge`); when the caller finds a complete command in it, it
ends the utterance there (`cut`) instead of waiting the full hangover. Otherwise the hangover decides, so a
question with a pause in it is not cut short.

Decoding ahead: at the first `speculate_ms` of such a pause, the endpointer offers the utterance as it will be
judged if the pause lasts (`pause_to_speculate`: the audio so far, its silence made up to `early_ms` with
zeros), so the caller can decode it while the pause goes on; `padded` gives the same for the hangover. A
pause keeps its `speech_end` until speech resumes: the caller keys what it decoded ahead by it."""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol

import numpy as np
import webrtcvad

from voicecoach.audio.frames import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, Utterance


@dataclass(frozen=True)
class EndpointSettings:
    """How speech is found. Times in milliseconds; frames are FRAME_MS long."""

    aggressiveness: int = 2  # webrtcvad 0 (keeps most) .. 3 (drops most non-speech)
    pre_roll_ms: int = 300  # audio kept from before the detected start, so first syllables survive
    # silence that ends an utterance: shorter answers faster, longer waits through pauses. At 360 ms one of 60
    # spoken questions with a 300 ms pause is cut in two (bench/endpointing.py), none at 420; but 420 turned 2
    # of 32 real people's "no" into Whisper's "now" (how much silence follows a word sways it): kept at 360
    hangover_ms: int = 360
    start_ms: int = 90  # voiced time, within `start_window_ms`, that starts an utterance
    start_window_ms: int = 150
    min_speech_ms: int = 150  # utterances with less voiced time than this are dropped (clicks, bumps)
    max_utterance_ms: int = 10000  # a forced end for endless speech or noise
    min_level_dbfs: float = -55.0  # frames quieter than this are never speech
    early_ms: int = 150  # silence after which a short utterance is judged early (0: never; see the docstring)
    early_max_ms: int = 3000  # longer utterances are not commands: they wait the full hangover
    speculate_ms: int = 30  # silence after which a short utterance is decoded ahead (0: never; < early_ms)


class Endpointer(Protocol):
    """Turns frames into utterances: feed frames with `process`, call `flush` at the end of the stream."""

    @property
    def in_speech(self) -> bool: ...

    def process(self, frame: np.ndarray) -> list[Utterance]: ...

    def flush(self) -> list[Utterance]: ...


def _frames_for(ms: int) -> int:
    return max(1, round(ms / FRAME_MS))


def level_dbfs(frame: np.ndarray) -> float:
    if not len(frame):
        return -120.0
    rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2))) / 32768.0
    return 20.0 * np.log10(max(rms, 1e-6))


class VadEndpointer:
    """The webrtcvad endpointer (see EndpointSettings for its knobs)."""

    def __init__(self, settings: EndpointSettings | None = None) -> None:
        self.settings = settings or EndpointSettings()
        self._vad = webrtcvad.Vad(self.settings.aggressiveness)
        self._pre_roll: collections.deque[np.ndarray] = collections.deque(maxlen=_frames_for(self.settings.pre_roll_ms))
        self._window: collections.deque[bool] = collections.deque(maxlen=_frames_for(self.settings.start_window_ms))
        self._frames: list[np.ndarray] = []
        self._voiced = 0
        self._silent_run = 0
        self._position = 0  # samples seen so far
        self._start_sample = 0
        self._speech_end = 0  # the sample after the last voiced frame of the utterance under way (or the last one)
        self._in_speech = False

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def pausing(self) -> bool:
        """Whether an utterance is under way and its latest frames are silent."""
        return self._in_speech and self._silent_run > 0

    @property
    def speech_end(self) -> int:
        """Where (in samples from the start of the stream) the voiced part of the current or latest utterance
        ends: it changes when speech resumes after a pause."""
        return self._speech_end

    def _is_speech(self, frame: np.ndarray) -> bool:
        if len(frame) != FRAME_SAMPLES or level_dbfs(frame) < self.settings.min_level_dbfs:
            return False
        return self._vad.is_speech(frame.astype("<i2", copy=False).tobytes(), SAMPLE_RATE)

    def process(self, frame: np.ndarray) -> list[Utterance]:
        speech = self._is_speech(frame)
        self._position += len(frame)
        if not self._in_speech:
            self._pre_roll.append(frame)
            self._window.append(speech)
            if sum(self._window) >= _frames_for(self.settings.start_ms):
                self._in_speech = True
                self._frames = list(self._pre_roll)
                self._start_sample = self._position - sum(len(f) for f in self._frames)
                self._voiced = sum(self._window)
                self._silent_run = 0
                self._speech_end = self._position
                self._pre_roll.clear()
                self._window.clear()
            return []
        self._frames.append(frame)
        self._voiced += speech
        self._silent_run = 0 if speech else self._silent_run + 1
        if speech:
            self._speech_end = self._position
        if self._silent_run >= _frames_for(self.settings.hangover_ms):
            return self._finish()
        if len(self._frames) >= _frames_for(self.settings.max_utterance_ms):
            return self._finish()
        return []

    def pause_to_judge(self) -> Utterance | None:
        """The utterance so far, once per pause, when its silence has just reached `early_ms` (before the
        hangover) and it is short enough to be a command; else None."""
        return self._utterance(self._frames) if self._short_pause_reaches(self.settings.early_ms) else None

    def pause_to_speculate(self) -> Utterance | None:
        """Once per pause of a short utterance, when its silence has just reached `speculate_ms` (before
        `early_ms`): the utterance `pause_to_judge` will give if the pause lasts, made up with silence."""
        ahead = self.settings.speculate_ms
        if not 0 < ahead < self.settings.early_ms or not self._short_pause_reaches(ahead):
            return None
        return self.padded(self.settings.early_ms)

    def padded(self, silence_ms: int) -> Utterance:
        """The utterance so far with zeros after it, so that its trailing silence lasts `silence_ms`: as it will
        be when the pause has lasted that long (but for the room's noise)."""
        missing = max(0, _frames_for(silence_ms) - self._silent_run)
        return self._utterance(self._frames + [np.zeros(FRAME_SAMPLES, np.int16)] * missing)

    def _short_pause_reaches(self, ms: int) -> bool:
        """Whether the silence of a short utterance has just reached `ms`, while an early decision is possible."""
        early = self.settings.early_ms
        return (self._in_speech and 0 < early < self.settings.hangover_ms and 0 < ms <= early
                and self._silent_run == _frames_for(ms)
                and len(self._frames) <= _frames_for(self.settings.early_max_ms)
                and self._voiced * FRAME_MS >= self.settings.min_speech_ms)

    def cut(self) -> list[Utterance]:
        """End the utterance under way now (a judged pause held a complete command)."""
        return self._finish() if self._in_speech else []

    def flush(self) -> list[Utterance]:
        result = self._finish() if self._in_speech else []
        self._pre_roll.clear()
        self._window.clear()
        return result

    def _finish(self) -> list[Utterance]:
        self._in_speech = False
        frames, voiced = self._frames, self._voiced
        self._frames, self._voiced, self._silent_run = [], 0, 0
        if voiced * FRAME_MS < self.settings.min_speech_ms:
            return []
        return [self._utterance(frames)]

    def _utterance(self, frames: list[np.ndarray]) -> Utterance:
        samples = np.concatenate(frames)
        start = self._start_sample / SAMPLE_RATE
        return Utterance(samples, start, start + len(samples) / SAMPLE_RATE)


def find_utterances(frames: Iterable[np.ndarray], settings: EndpointSettings | None = None) -> Iterator[Utterance]:
    """Every utterance in a finite or endless stream of frames."""
    endpointer = VadEndpointer(settings)
    for frame in frames:
        yield from endpointer.process(frame)
    yield from endpointer.flush()
