"""SoundDeviceSpeaker: speaks through a sounddevice OutputStream, sentence by sentence.

The stream stays open and its callback pulls audio from a small queue, so stop() takes effect at the
next 10 ms block; the next sentence is synthesized while the current one plays. Every block played is
kept in `history` (PlaybackHistory) with the time it is due at the device.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from voicecoach.audio.events import RETRY_SECONDS, DeviceEvent, DeviceListener
from voicecoach.errors import DeviceError
from voicecoach.audio.devices import DeviceInfo, close_stream_quietly
from voicecoach.voice.devices import load_sounddevice, resolve_output_device
from voicecoach.voice.reference import PlaybackHistory
from voicecoach.voice.speaker import BaseSpeaker, SpeechResult
from voicecoach.voice.synthesizer import Synthesizer

log = logging.getLogger(__name__)

BLOCK_SECONDS = 0.005
OUTPUT_LATENCY = "low"  # ~10 ms through PulseAudio: stop() lands in ~17 ms (20 ms would make it ~35 ms)
RESYNC_SECONDS = 0.02  # a block more than this away from the sample clock restarts it (stall, underrun)
STALL_TIMEOUT = 5.0  # seconds without a callback before playback is declared broken (start-up takes ~2 s)
CLOSE_TIMEOUT = 15.0  # seconds close() waits for the utterance under way (a sentence's synthesis, a stall)


@dataclass
class _Chunk:
    """One sentence's audio in the play queue (mutated only under the queue lock)."""

    index: int
    samples: np.ndarray
    rate: int | None
    position: int = 0
    first_due: float | None = None
    end_due: float | None = None
    complete: bool = True  # False while the rest of the sentence is still being synthesized


class SoundDeviceSpeaker(BaseSpeaker):
    """Speaks through an output device; see the module docstring."""

    def __init__(self, synthesizer: Synthesizer | None = None, device: str | int | None = None,
                 rate: int | None = None, history_seconds: float = 30.0,
                 on_event: DeviceListener | None = None, retry_s: float = RETRY_SECONDS,
                 owns_synthesizer: bool = False) -> None:
        """`owns_synthesizer`: close() closes the synthesizer too (the speaker was made with it alone)."""
        super().__init__(rate)
        self.on_event = on_event
        self.owns_synthesizer = owns_synthesizer
        self.retry_s = retry_s
        self.lost = False  # the device went away; speech is skipped until it is back
        self._closing = threading.Event()
        self._reopening = False
        self._retry: threading.Thread | None = None  # reopening a lost device
        self.synthesizer = synthesizer or Synthesizer()
        self.device: DeviceInfo = resolve_output_device(device)
        self._sd = load_sounddevice()
        self._queue: deque[_Chunk] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._halt_requested = False
        self._halted_at: float | None = None
        self._callbacks = 0
        self._next_due: float | None = None
        self.underruns = 0  # output blocks the device asked for too late (CPU starvation)
        self._utterance_started_at: float | None = None
        self._last_callback_at = time.monotonic()
        self.history: PlaybackHistory | None = None  # set before the first callback can run
        self._open_stream(history_seconds=history_seconds)

    def _open_stream(self, rates: list[int] | None = None, history_seconds: float | None = None) -> None:
        """Open and start `self._stream` at the first rate that works (`self.sample_rate`); DeviceError if
        the device cannot be opened. With `history_seconds`, the playback history is made first."""
        rates = rates or [22050, int(self.device.default_samplerate)]  # espeak's rate, else the device's own
        last_error: Exception | None = None
        for rate in dict.fromkeys(rates):
            try:
                stream = self._sd.OutputStream(
                    samplerate=rate, channels=1, dtype="int16", device=self.device.index,
                    blocksize=round(rate * BLOCK_SECONDS), latency=OUTPUT_LATENCY, callback=self._callback,
                    finished_callback=self._on_finished)
            except Exception as error:  # PortAudioError: invalid sample rate, device busy ...
                last_error = error
                continue
            if history_seconds is not None:
                self.history = PlaybackHistory(rate, history_seconds)
            with self._lock:  # what the callback reads
                self._stream, self.sample_rate = stream, rate
                self._callbacks, self._next_due, self._last_callback_at = 0, None, time.monotonic()
            try:
                stream.start()
            except Exception as error:
                last_error = error
                close_stream_quietly(stream)
                continue
            return
        raise DeviceError(f"could not open audio output {self.device.name!r} ({last_error})",
                          "choose another device with --output-device, or close programs using it")

    # -- a device that goes away and comes back -------------------------------------------------------

    def _on_finished(self) -> None:
        """PortAudio ended the stream: by close() (expected), or because the device failed."""
        if not self._closing.is_set() and not self._reopening:
            self._declare_lost("the output stream stopped")

    def _declare_lost(self, problem: str) -> None:
        with self._wake:
            if self.lost:
                return
            self.lost = True
            self._queue.clear()
            self._wake.notify_all()
        log.warning("audio output %r lost: %s", self.device.name, problem)
        if self.on_event is not None:
            self.on_event(DeviceEvent("speaker", False, self.device.name, problem))
        self._retry = threading.Thread(target=self._reconnect, name="voicecoach-output-retry", daemon=True)
        self._retry.start()

    def _reconnect(self) -> None:
        """Every `retry_s`, open the device again; back when it pulls audio steadily."""
        while not self._closing.wait(self.retry_s):
            self._reopening = True
            try:
                close_stream_quietly(self._stream)
                try:
                    self._open_stream([self.sample_rate])
                except DeviceError as error:
                    log.info("audio output still unavailable: %s", error.message)
                    continue
                if not self.warm_up():
                    log.info("audio output opened but does not play yet")
                    continue
            finally:
                self._reopening = False
            with self._wake:
                self.lost = False
            log.warning("audio output %r is back", self.device.name)
            if self.on_event is not None:
                self.on_event(DeviceEvent("speaker", True, self.device.name))
            return

    # The audio callback: runs on PortAudio's thread every block; keep it short.
    def _callback(self, outdata, frames, time_info, status) -> None:
        now = time.monotonic()
        lead = time_info.outputBufferDacTime - time_info.currentTime
        due = self._clock(now + (lead if 0 <= lead < 1.0 else self._stream.latency), frames)
        out = outdata[:, 0]
        filled = 0
        with self._lock:
            self._callbacks += 1
            self._last_callback_at = now
            if status.output_underflow:
                self.underruns += 1
            if self._halt_requested:
                self._queue.clear()
                self._halt_requested = False
                self._halted_at = due
                self._wake.notify_all()
            while filled < frames and self._queue:
                chunk = self._queue[0]
                if chunk.position == 0:
                    chunk.first_due = due + filled / self.sample_rate
                    if self._utterance_started_at is None:
                        self._utterance_started_at = chunk.first_due
                count = min(frames - filled, len(chunk.samples) - chunk.position)
                out[filled:filled + count] = chunk.samples[chunk.position:chunk.position + count]
                chunk.position += count
                filled += count
                if chunk.position >= len(chunk.samples):
                    if not chunk.complete:  # the sentence's next clause is on its way
                        break
                    chunk.end_due = due + filled / self.sample_rate
                    self._queue.popleft()
                    self._wake.notify_all()
        out[filled:] = 0
        self.history.add(due, out)

    def _clock(self, measured: float, frames: int) -> float:
        """When this block's first sample is heard: counted in samples from the previous block, gently
        pulled towards the measured time (callback wake-ups jitter by milliseconds), reset after a jump."""
        expected = self._next_due
        if expected is None or abs(measured - expected) > RESYNC_SECONDS:
            due = measured
        else:
            due = expected + 0.02 * (measured - expected)
        self._next_due = due + frames / self.sample_rate
        return due

    def _speak(self, text: str, sentences: tuple[str, ...]) -> SpeechResult:
        called_at = time.monotonic()
        if self.lost:  # nothing can be heard: the loop shows the text meanwhile
            return SpeechResult(text, sentences, 0, True, called_at, called_at)
        chunks: list[_Chunk] = []
        with self._lock:
            self._halted_at = None
            self._utterance_started_at = None
        for index, sentence in enumerate(sentences):
            if self._stop_event.is_set():
                break
            if not self._enqueue(self._render(index, sentence), sentences, chunks):
                break
            if index == 0:
                log.debug("first sentence synthesized in %.0f ms", (time.monotonic() - called_at) * 1000)
        with self._wake:
            while self._queue and not self._stop_event.is_set() and not self.lost:
                self._wait_for_callback()
            if self.lost:
                halted_at = time.monotonic()
            elif self._stop_event.is_set():
                self._halt_requested = True
                while self._halted_at is None and not self.lost:
                    self._wait_for_callback()
                halted_at = self._halted_at if self._halted_at is not None else time.monotonic()
            else:
                halted_at = None
        if halted_at is None:  # everything is queued to the device: wait until it has been heard
            end = max((c.end_due for c in chunks if c.end_due), default=time.monotonic())
            time.sleep(max(0.0, end - time.monotonic()))
        stop_time = halted_at if halted_at is not None else float("inf")
        spoken = sum(1 for c in chunks if c.end_due is not None and c.end_due <= stop_time)
        started = min((c.first_due for c in chunks if c.first_due), default=called_at)
        log.debug("first audio due at the device %.0f ms after the reply was handed over", (started - called_at) * 1000)
        ended = halted_at if halted_at is not None else max((c.end_due for c in chunks if c.end_due),
                                                            default=called_at)
        return SpeechResult(text, sentences, spoken, spoken < len(sentences), started, ended)

    @property
    def utterance_started_at(self) -> float | None:
        """When the current (or last) utterance's first sample was due at the device; None before that."""
        return self._utterance_started_at

    def _enqueue(self, chunk: _Chunk, sentences: tuple[str, ...], chunks: list[_Chunk]) -> bool:
        """Queue `chunk` once the sentence before it has started playing (one sentence ahead, no gap).

        A sentence waiting in the queue is re-synthesized if the rate changed meanwhile, so "slower"
        takes effect at the next sentence. False when stopped."""
        while True:
            with self._wake:
                if self._stop_event.is_set() or self.lost:
                    return False
                waiting = self._queue[-1] if self._queue and self._queue[-1].position == 0 else None
                if waiting is None and chunk.rate == self.rate:
                    self._queue.append(chunk)
                    chunks.append(chunk)
                    return True
                if waiting is not None and waiting.rate == self.rate:
                    self._wait_for_callback()
                    continue
            if waiting is None:
                chunk = self._render(chunk.index, sentences[chunk.index])
                continue
            replacement = self._render(waiting.index, sentences[waiting.index])  # outside the lock
            with self._wake:
                if self._queue and self._queue[-1] is waiting and waiting.position == 0:
                    self._queue[-1] = replacement
                    chunks[chunks.index(waiting)] = replacement

    def _render(self, index: int, sentence: str) -> _Chunk:
        """A sentence's audio. The first sentence of an utterance, from a synthesizer that offers
        `synthesize_parts` (Piper), starts with its first clause; the rest is appended as it is ready."""
        rate = self.rate
        streamed = getattr(self.synthesizer, "synthesize_parts", None) if index == 0 else None
        if streamed is None:
            clip = self.synthesizer.synthesize(sentence, rate=rate).resampled(self.sample_rate)
            return _Chunk(index, np.asarray(clip.samples), rate)
        parts = iter(streamed(sentence, rate))
        first = next(parts).resampled(self.sample_rate)
        chunk = _Chunk(index, np.asarray(first.samples), rate, complete=False)
        threading.Thread(target=self._extend, args=(chunk, parts), name="voicecoach-clauses", daemon=True).start()
        return chunk

    def _extend(self, chunk: _Chunk, parts) -> None:
        """Append the remaining clauses to `chunk`, then mark it complete (also on stop or failure)."""
        try:
            for clip in parts:
                if self._stop_event.is_set():
                    break
                samples = np.asarray(clip.resampled(self.sample_rate).samples)
                with self._lock:
                    chunk.samples = np.concatenate([chunk.samples, samples])
        except Exception:  # the speech so far still plays; the sentence just ends early
            log.exception("synthesizing the rest of a sentence failed")
        finally:
            with self._wake:
                chunk.complete = True
                self._wake.notify_all()

    def _wait_for_callback(self) -> None:
        """Wait (holding the condition) for the callback's next news; a device gone quiet is lost."""
        self._wake.wait(0.02)
        if not self.lost and time.monotonic() - self._last_callback_at > STALL_TIMEOUT:
            self._wake.release()  # _declare_lost takes the lock and calls out
            try:
                self._declare_lost(f"no audio pulled for {STALL_TIMEOUT:.0f} s")
            finally:
                self._wake.acquire()

    def warm_up(self, timeout: float = 5.0) -> bool:
        """Wait until the device pulls audio steadily (PulseAudio's ALSA plugin can take ~2 s to start)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._callbacks >= round(0.2 / BLOCK_SECONDS):
                return True
            time.sleep(0.02)
        return False

    def _on_stop(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def close(self) -> None:
        """Stop speaking, close the stream and then the synthesizer (when owned). Waits for the utterance
        under way (at most CLOSE_TIMEOUT) and for a reconnect under way, so that no stream stays open and
        no synthesis runs into interpreter teardown."""
        self._closing.set()
        super().close()
        ended = self._turn.acquire(timeout=CLOSE_TIMEOUT)
        if not ended:
            log.warning("the utterance under way did not end within %.0f s; closing the output anyway",
                        CLOSE_TIMEOUT)
        try:
            retry = self._retry
            if retry is not None and retry is not threading.current_thread():
                retry.join()  # bounded: one open and warm-up, and it stops once closing is set
            close_stream_quietly(self._stream)
        finally:
            if ended:
                self._turn.release()
        close = getattr(self.synthesizer, "close", None) if self.owns_synthesizer else None
        if close is not None:  # a neural voice finishes what it is making, so the process can exit cleanly
            close()
