"""Speakers without a sound device: WavFileSpeaker writes what would be heard to a WAV file,
TextSpeaker prints it (the fallback when there is no output device)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from voicecoach.audio.wavfile import publish
from voicecoach.voice.clip import AudioClip
from voicecoach.voice.speaker import BaseSpeaker, SpeechResult
from voicecoach.voice.synthesizer import Synthesizer

SENTENCE_GAP = 0.15  # seconds between sentences of one utterance (espeak adds its own end pause too)


@dataclass(frozen=True)
class Utterance:
    """Where one utterance sits in the WAV file (seconds from its start)."""

    text: str
    start: float
    duration: float
    stopped: bool


class WavFileSpeaker(BaseSpeaker):
    """Appends each utterance to one WAV, `gap` seconds of silence apart; `utterances` is the timeline.

    The file is written to PATH.part and renamed to PATH by close(), so PATH is never half written.
    With `realtime=True`, speak() takes as long as the audio lasts and stop() cuts it at that moment
    (for a loop that runs on recordings with barge-in)."""

    def __init__(self, path: str | Path, synthesizer: Synthesizer | None = None, rate: int | None = None,
                 gap: float = 0.5, realtime: bool = False, sample_rate: int = 22050) -> None:
        super().__init__(rate)
        self.path = Path(path)
        self.synthesizer = synthesizer or Synthesizer()
        self.sample_rate = sample_rate
        self.gap = gap
        self.realtime = realtime
        self.utterances: list[Utterance] = []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, self._part = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
        self._file = os.fdopen(handle, "wb")
        self._writer = wave.open(self._file, "wb")
        self._writer.setnchannels(1)
        self._writer.setsampwidth(2)
        self._writer.setframerate(sample_rate)
        self._frames = 0
        self._closed = False

    @property
    def position(self) -> float:
        """Seconds of audio written so far."""
        return self._frames / self.sample_rate

    def add_silence(self, seconds: float) -> None:
        """Advance the timeline (e.g. while the listener talks) without speaking."""
        self._write(np.zeros(round(seconds * self.sample_rate), dtype=np.int16))

    def add_audio(self, samples: np.ndarray, sample_rate: int) -> None:
        """Append other audio to the timeline (the listener's voice in a recorded session)."""
        clip = AudioClip(np.asarray(samples, dtype=np.int16), sample_rate).resampled(self.sample_rate)
        self._write(np.asarray(clip.samples))

    def _speak(self, text: str, sentences: tuple[str, ...]) -> SpeechResult:
        started_at = time.monotonic()
        if self.utterances and self.gap:
            self.add_silence(self.gap)
        start = self.position
        spoken = 0
        for index, sentence in enumerate(sentences):
            if self._stop_event.is_set():
                break
            clip = self.synthesizer.synthesize(sentence, rate=self.rate).resampled(self.sample_rate)
            samples = np.asarray(clip.samples)
            if index:
                samples = np.concatenate([np.zeros(round(SENTENCE_GAP * self.sample_rate), np.int16), samples])
            played = self._play(samples)
            self._write(samples[:played])
            if played < len(samples):
                break
            spoken += 1
        stopped = spoken < len(sentences)
        self.utterances.append(Utterance(text, start, self.position - start, stopped))
        return SpeechResult(text, sentences, spoken, stopped, started_at, time.monotonic())

    def _play(self, samples: np.ndarray) -> int:
        """How many samples are "heard" before a stop (all of them unless realtime)."""
        if not self.realtime:
            return len(samples)
        began = time.monotonic()
        duration = len(samples) / self.sample_rate
        if self._stop_event.wait(duration):
            return min(len(samples), round((time.monotonic() - began) * self.sample_rate))
        return len(samples)

    def _write(self, samples: np.ndarray) -> None:
        if self._closed:
            raise ValueError("the WAV speaker is closed")
        self._writer.writeframes(samples.astype("<i2").tobytes())
        self._frames += len(samples)

    def close(self) -> None:
        """Finish the file and move it into place (idempotent)."""
        super().close()
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        self._file.close()
        publish(self._part, self.path)

    def discard(self) -> None:
        """Give up: remove the partial file instead of publishing it."""
        if not self._closed:
            self._closed = True
            self._writer.close()
            self._file.close()
            Path(self._part).unlink(missing_ok=True)

    def __exit__(self, exc_type, *exc) -> None:
        self.discard() if exc_type is not None else self.close()


class TextSpeaker(BaseSpeaker):
    """Prints each utterance on its own line (`prefix` first); nothing to stop, all sentences "spoken"."""

    def __init__(self, stream: TextIO | None = None, prefix: str = "coach: ", rate: int | None = None) -> None:
        super().__init__(rate)
        self.stream = stream
        self.prefix = prefix

    def _speak(self, text: str, sentences: tuple[str, ...]) -> SpeechResult:
        now = time.monotonic()
        stream = self.stream or sys.stdout
        print(f"{self.prefix}{' '.join(sentences)}", file=stream, flush=True)
        return SpeechResult(text, sentences, len(sentences), False, now, now)

