"""The live loop: wires audio source → endpointer → recognizer → intent matcher → coach → speaker.

It holds no business rules. It handles timing: barge-in (a command while the coach speaks stops it and
tells the coach how far it got), the coach's own voice reaching the microphone, an optional wake phrase,
and continuous reading.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import queue
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol

import numpy as np
from rapidfuzz import fuzz

from voicecoach.audio.events import DeviceEvent
from voicecoach.audio.endpoint import EndpointSettings, VadEndpointer
from voicecoach.audio.frames import FRAME_MS, SAMPLE_RATE, Utterance
from voicecoach.coach.machine import Coach
from voicecoach.coach.replies import Action, Reply
from voicecoach.own_words import RecentlySaid
from voicecoach.speech.decode_ahead import DecodeAhead, decodes_ahead
from voicecoach.speech.pipeline import DEFAULT_MIN_CONFIDENCE, understand, why_not_understood
from voicecoach.speech.recognizer import Hearing, Recognizer, Transcript
from voicecoach.understanding.completeness import may_become_another
from voicecoach.understanding.intents import Intent
from voicecoach.understanding.text import tokenize
from voicecoach.voice.speaker import SpeechResult, SpeechTask

log = logging.getLogger(__name__)

# While the coach speaks, only these interrupt it; anything else heard then is ignored (it is most
# likely the coach's own voice or the room), so a misheard word never cuts the guidance off.
BARGE_IN_INTENTS = frozenset({"pause", "stop", "next", "previous", "repeat", "start_over", "goto_step",
                              "slower", "faster", "help", "safety", "cancel", "resume"})
# Until the echo canceller has settled (its first seconds of the coach's speech), only these: what is heard then
# may still be the coach's own voice, and pausing by mistake costs a word, skipping on costs a step.
SETTLING_BARGE_IN_INTENTS = frozenset({"pause", "stop", "safety"})


# Danger heard by meaning alone (no crisis pattern matched) over the coach's voice before the echo canceller has
# settled is taken when heard again within this many seconds. The coach's own unsettled echo, garbled, once came
# back as "actually if you make him die" (from "walks you through making tea"). Patterns always act at once.
CONFIRM_DANGER_WITHIN_S = 30.0


@dataclass
class UnconfirmedDanger:
    """The last danger heard by meaning alone over the coach's unsettled echo, waiting to be heard again."""

    within_s: float = CONFIRM_DANGER_WITHIN_S
    heard_at: float | None = None

    def first_hearing(self, at: float) -> bool:
        """Whether a hearing at `at` is the first within `within_s` (then it is held and remembered)."""
        first = self.heard_at is None or at - self.heard_at > self.within_s
        self.heard_at = at if first else None
        return first


def ignored_while_speaking(intent: str, echo_settled: bool) -> str:
    """Why an intent heard while the coach speaks is not acted on, or "" when it is."""
    if intent not in BARGE_IN_INTENTS:
        return "not a command while speaking"
    if not echo_settled and intent not in SETTLING_BARGE_IN_INTENTS:
        return "the echo canceller is still settling"
    return ""


class Speaking(Protocol):
    """What the loop needs of a speaker (voicecoach.voice.speaker.Speaker satisfies it)."""

    @property
    def speaking(self) -> bool: ...

    def speak_async(self, text: str, rate: int | None = None,
                    on_done: Callable[[SpeechResult], None] | None = None) -> SpeechTask: ...

    def stop(self) -> None: ...


class EchoFilter(Protocol):
    """Decides whether an utterance is only the coach's own voice, and removes it where it can."""

    def clean(self, utterance: Utterance, heard_at: float) -> np.ndarray | None: ...


class PlaybackClock(Protocol):
    def last_sound_at(self) -> float | None: ...


RECENT_TURNS = 200
ECHO_TAIL_S = 0.5  # after our voice stops, a little of it is still on its way to the microphone
WAKE_MIN_SIMILARITY = 80  # rapidfuzz ratio of the first words to the wake phrase ("he coach" is 94)
# Adaptive endpointing: a pause judged early ends the utterance only when it holds one of these, matched this
# surely, from a transcript the recognizer is this sure of. Questions and safety statements always wait the
# full hangover: they may go on after a pause, and their replies are not a matter of milliseconds.
NOT_EARLY = frozenset({"none", "question", "safety"})
EARLY_MIN_SCORE = 0.9
EARLY_MIN_CONFIDENCE = 0.6
# Speech that starts again this soon after an early decision would have been part of the same utterance
# without it ("next [a gap inside the words] step"): it is acted on only when it asks for something else.
CONTINUATION_MS = 360


@dataclass(frozen=True)
class _Judged:
    """The transcript of an utterance made before it was handed over (at its early pause, or ahead), how long the
    loop waited for it, and the command it holds (None: not understood yet)."""

    heard: Transcript
    recognition_ms: float
    intent: Intent | None


@dataclass(frozen=True)
class Turn:
    """One utterance and what came of it, with timings in milliseconds."""

    heard: str
    confidence: float
    intent: Intent
    reply: Reply | None
    at: float  # stream time (s) at which the utterance ended
    detected_at: float  # time.monotonic() when the endpointer handed the utterance over
    endpoint_ms: float  # trailing silence the endpointer waited for
    recognition_ms: float  # what the loop waited for the transcript (less than the decode when made ahead)
    reply_ms: float  # intent matching and the coach
    ignored: str = ""  # why nothing was done ("echo", "no wake phrase", "low confidence", "not a command")
    not_understood: str = ""  # for intent none: why the words were not taken as a command or question



@dataclass
class SessionSettings:
    min_confidence: float = DEFAULT_MIN_CONFIDENCE  # transcripts below this are not understood
    wake_phrase: str | None = None
    continuous: bool = False
    barge_in_window_ms: int = 1500  # longest piece of audio judged at once while the coach speaks
    record_dir: Path | None = None  # keep each utterance heard as a WAV here (nothing is kept otherwise)
    wait_for_speech: bool = False  # speak each reply to its end before listening on (recordings, not live)
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)


class Session:
    """One conversation: feed it frames, it speaks the coach's replies and reports each turn."""

    def __init__(self, coach: Coach, recognizer: Recognizer, speaker: Speaking,
                 settings: SessionSettings | None = None, echo_filter: EchoFilter | None = None,
                 playback: PlaybackClock | None = None,
                 on_turn: Callable[[Turn], None] | None = None,
                 on_reply: Callable[[Reply], None] | None = None,
                 echo_settled: Callable[[], bool] | None = None) -> None:
        """`echo_settled`: whether the capture path's echo canceller has settled (None: no canceller)."""
        self.coach = coach
        self.echo_settled = echo_settled
        self._said = RecentlySaid()  # what the coach said lately: its echo must not count as a command
        self._unconfirmed_danger = UnconfirmedDanger()
        self.recognizer = recognizer
        self.decoder = DecodeAhead(recognizer)  # every decode goes through it: one at a time
        self.speaker = speaker
        self.settings = settings or SessionSettings()
        if not decodes_ahead(recognizer):
            self.settings = dataclasses.replace(
                self.settings, endpoint=dataclasses.replace(self.settings.endpoint, speculate_ms=0))
        self.echo_filter = echo_filter
        self.playback = playback
        self.on_turn = on_turn
        self.on_reply = on_reply
        self.endpointer = VadEndpointer(self.settings.endpoint)
        self.ended = False
        self.turns: deque[Turn] = deque(maxlen=RECENT_TURNS)  # the latest only: a session may run for hours
        self.turn_count = 0
        self._task: SpeechTask | None = None
        self._stream_time = 0.0
        self._speaking_endpoint = dataclasses.replace(self.settings.endpoint,
                                                      max_utterance_ms=self.settings.barge_in_window_ms)
        self._wake_words = tokenize(self.settings.wake_phrase) if self.settings.wake_phrase else []
        self._device_events: queue.SimpleQueue[DeviceEvent] = queue.SimpleQueue()
        self._early: tuple[Intent, float] | None = None  # the last command acted on early, and when (stream s)
        self._continuing: Intent | None = None  # the utterance under way continues that command
        self._handling = False
        synthesizer = getattr(speaker, "synthesizer", None)
        if hasattr(synthesizer, "wait_while"):  # speech made ahead gives way to the listener
            synthesizer.wait_while = self.listener_has_the_floor

    # -- driving the loop ----------------------------------------------------------------------------

    def start(self) -> Reply:
        reply = self.coach.start()
        self._say(reply)
        return reply

    def run(self, frames: Iterable[np.ndarray], on_frame: Callable[[np.ndarray], None] | None = None) -> None:
        """Start, then process frames until the coach ends the session or the frames run out."""
        self.start()
        for frame in frames:
            self.feed(frame)
            if on_frame is not None:
                on_frame(frame)
            if self.ended:
                break
        if not self.ended:
            for utterance in self.endpointer.flush():
                self.handle(utterance)
        self.finish()

    def device_event(self, event: DeviceEvent) -> None:
        """A microphone or speaker went away or came back (callable from any thread; acted on at the
        next frame, which a lost microphone keeps coming as silence)."""
        self._device_events.put(event)

    def feed(self, frame: np.ndarray) -> None:
        while not self._device_events.empty():
            self._on_device(self._device_events.get())
            if self.ended:
                return
        self._stream_time += len(frame) / SAMPLE_RATE
        # While the coach speaks, cut what the microphone hears into short pieces: each is checked against
        # our own voice at once, so a listener's "stop" is not held back until the coach falls silent.
        self.endpointer.settings = self._speaking_endpoint if self.speaker.speaking else self.settings.endpoint
        was_in_speech = self.endpointer.in_speech
        for utterance in self.endpointer.process(frame):
            continuing, self._continuing = self._continuing, None
            self.handle(utterance, self._decoded_ahead(utterance), continuing=continuing)
            if self.ended:
                return
        if self.endpointer.in_speech and not was_in_speech and self._early is not None:
            intent, at = self._early
            self._early = None
            if (self._stream_time - at) * 1000 <= CONTINUATION_MS:
                self._continuing = intent
        if self.endpointer.in_speech and not self.endpointer.pausing:
            self.decoder.drop()  # speech resumed: what was asked ahead for the pause is of no use
        ahead = self.endpointer.pause_to_speculate()
        if ahead is not None and self._may_judge_early(ahead):
            self.decoder.ahead(self._key(ahead), ahead.samples)
        paused = self.endpointer.pause_to_judge()
        if paused is not None:
            self._judge_pause(paused)
            if self.ended:
                return
        self._continue_reading()

    def _judge_pause(self, utterance: Utterance) -> None:
        """Transcribe a short utterance at a pause: a complete command ends it at once. Anything else waits for
        the full hangover and is transcribed again then: with the longer silence after the words Whisper hears
        them better ("summarize", heard at 150 ms as "so i'm gonna rise", a phrase the safety layer questioned)."""
        if not self._may_judge_early(utterance):
            return
        started = time.perf_counter()
        heard = self.decoder.take(self._key(utterance))
        if heard is None:
            heard = self.decoder.recognize(utterance.samples)
        recognition_ms = (time.perf_counter() - started) * 1000
        intent = self._complete_command(heard)
        if intent is None:
            if self.settings.endpoint.speculate_ms > 0:  # decode it as the hangover will hand it over, meanwhile
                later = self.endpointer.padded(self.settings.endpoint.hangover_ms)
                self.decoder.ahead(self._key(later), later.samples)
            return
        judged = _Judged(heard, recognition_ms, intent)
        continuing, self._continuing = self._continuing, None
        for finished in self.endpointer.cut():
            turn = self.handle(finished, judged, early=True, continuing=continuing)
            self._early = (turn.intent, self._stream_time)

    def _may_judge_early(self, utterance: Utterance) -> bool:
        """Not while our own voice may be in it, nor with a wake phrase to check: the full path judges those."""
        return not (self._wake_words or self._over_our_voice(utterance, time.monotonic(), self.speaker.speaking))

    def _key(self, utterance: Utterance) -> tuple[float, int, int]:
        """What identifies an utterance decoded ahead: where it starts, where its speech ends, how long it is."""
        return utterance.start, self.endpointer.speech_end, len(utterance.samples)

    def _decoded_ahead(self, utterance: Utterance) -> _Judged | None:
        """The transcript of an utterance the hangover has just ended, when it was decoded ahead (with zeros for
        the silence after its words: the silence heard instead held no speech, or the key would differ)."""
        started = time.perf_counter()
        heard = self.decoder.take(self._key(utterance))
        return None if heard is None else _Judged(heard, (time.perf_counter() - started) * 1000, None)

    def _complete_command(self, heard: Transcript) -> Intent | None:
        """The command `heard` holds when it is surely complete (see NOT_EARLY), else None."""
        if not heard.text or not heard.in_grammar or heard.confidence < max(EARLY_MIN_CONFIDENCE,
                                                                            self.settings.min_confidence):
            return None
        intent = understand(heard, self.coach.guide, self.coach.context, self.settings.min_confidence)
        if (intent.name in NOT_EARLY or intent.score < EARLY_MIN_SCORE
                or may_become_another(heard.text, intent.name)):
            return None
        return intent

    def wait_until_quiet(self, timeout: float = 120.0) -> None:
        """Block until the reply being spoken has ended."""
        if self._task is not None:
            self._task.wait(timeout=timeout)

    def finish(self) -> None:
        """Let the last reply finish, then save."""
        self.wait_until_quiet()
        self.decoder.close()
        self.coach.save()

    # -- one utterance --------------------------------------------------------------------------------

    def handle(self, utterance: Utterance, judged: _Judged | None = None, early: bool = False,
               continuing: Intent | None = None) -> Turn:
        """Act on one utterance; `judged`: its transcript made at the early pause (no need to decode it again);
        `early`: it was ended at that pause rather than after the full hangover; `continuing`: the command
        acted on early that this utterance continues (then it counts only when it asks for something else)."""
        self._handling = True
        try:
            return self._handle(utterance, judged, early, continuing)
        finally:
            self._handling = False

    def listener_has_the_floor(self) -> bool:
        """Whether the listener is speaking or what they said is being understood (speech made ahead waits)."""
        return self.endpointer.in_speech or self._handling

    def _handle(self, utterance: Utterance, judged: _Judged | None, early: bool, continuing: Intent | None) -> Turn:
        heard_at = time.monotonic()
        # The utterance ends after the hangover (or the early pause): that trailing silence is the endpointing delay.
        waited_ms = self.settings.endpoint.early_ms if early else self.settings.endpoint.hangover_ms
        endpoint_ms = math.ceil(waited_ms / FRAME_MS) * FRAME_MS
        # Heard over our voice: only barge-in commands count. Said into a pause of a reply under way (nothing of ours
        # sounded during it, so no echo can be in it): heard as if the coach were silent, and acted on by
        # interrupting the rest of the reply; what means nothing there lets the reply go on.
        mid_reply = self.speaker.speaking
        speaking = self._over_our_voice(utterance, heard_at, mid_reply)
        samples = utterance.samples
        if self.echo_filter is not None:  # also just after speaking: our voice may still be arriving
            cleaned = self.echo_filter.clean(utterance, heard_at)
            if cleaned is None:
                return self._record(Transcript.empty(), Intent.none(), None, utterance, heard_at, endpoint_ms, 0.0, 0.0,
                                    "echo")
            samples = cleaned
        if judged is not None and (samples is not utterance.samples  # the echo filter changed them
                                   or (speaking and judged.intent is None)):  # to be heard as over our voice
            judged = None
        settled = self.echo_settled is None or self.echo_settled()
        if judged is not None:
            heard, recognition_ms = judged.heard, judged.recognition_ms
        else:
            started = time.perf_counter()
            if speaking:  # only the barge-in commands count: the recognizer may listen harder for them
                commands = BARGE_IN_INTENTS if settled else SETTLING_BARGE_IN_INTENTS
                heard = self.decoder.recognize(samples, Hearing(over_voice=True, commands=commands))
            else:
                heard = self.decoder.recognize(samples)
            recognition_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        heard, ignored = self._without_wake_phrase(heard)
        if ignored:
            return self._record(heard, Intent.none(heard.text), None, utterance, heard_at, endpoint_ms,
                                recognition_ms, 0.0, ignored)
        if judged is not None and judged.intent is not None and not speaking:  # understood at the pause, same context
            intent = judged.intent
        else:
            intent = understand(heard, self.coach.guide, dataclasses.replace(self.coach.context, speaking=speaking),
                                self.settings.min_confidence)
        if continuing is not None and (intent.name == "none" or (intent.name, dict(intent.slots)) == (
                continuing.name, dict(continuing.slots))):
            return self._record(heard, intent, None, utterance, heard_at, endpoint_ms, recognition_ms,
                                (time.perf_counter() - started) * 1000, "the rest of a command acted on early")
        if intent.name == "none":
            if speaking or mid_reply:  # a stray sound while the coach talks: let it talk on
                return self._record(heard, intent, None, utterance, heard_at, endpoint_ms, recognition_ms,
                                    (time.perf_counter() - started) * 1000, "not understood while speaking")
        refused = ignored_while_speaking(intent.name, settled) if speaking else ""
        if (not refused and speaking and not settled and intent.name == "safety"
                and intent.slots.get("concern") == "meaning" and self._unconfirmed_danger.first_hearing(heard_at)):
            refused = "danger by meaning alone over our unsettled echo: taken when heard again"
        if (not refused and speaking and self.playback is not None and intent.name != "safety"
                and self._said.echoes(heard.text, heard_at - utterance.duration, heard_at)):
            refused = "our own words"  # a loudspeaker's echo the canceller left (safety is always taken)
        if refused:
            return self._record(heard, intent, None, utterance, heard_at, endpoint_ms, recognition_ms,
                                (time.perf_counter() - started) * 1000, refused)
        if speaking or mid_reply:
            self._interrupt()
        reply = self.coach.handle(intent)
        reply_ms = (time.perf_counter() - started) * 1000
        turn = self._record(heard, intent, reply, utterance, heard_at, endpoint_ms, recognition_ms, reply_ms, "")
        self._say(reply)
        return turn

    def _over_our_voice(self, utterance: Utterance, heard_at: float, mid_reply: bool) -> bool:
        """Whether our voice may be in the utterance: it sounded during it, or a reply is under way and what was
        played is not known (no playback history: a speaker without one, or files)."""
        if self.playback is None:
            return mid_reply
        last = self.playback.last_sound_at()
        return last is not None and last > heard_at - utterance.duration - ECHO_TAIL_S

    def _without_wake_phrase(self, heard: Transcript) -> tuple[Transcript, str]:
        """With a wake phrase set, the transcript after it, or why the utterance is ignored."""
        if not self._wake_words:
            return heard, ""
        words = tokenize(heard.text)
        said = " ".join(words[: len(self._wake_words)])
        # a free-speech recognizer spells what it heard ("he coach" for "hey coach"): a close match counts
        if fuzz.ratio(said, " ".join(self._wake_words)) < WAKE_MIN_SIMILARITY:
            return heard, "no wake phrase"
        rest = " ".join(words[len(self._wake_words):])
        if not rest:
            return heard, "wake phrase alone"
        return Transcript(rest, heard.confidence, heard.in_grammar, heard.alternatives, heard.engine), ""

    def _record(self, heard: Transcript, intent: Intent, reply: Reply | None, utterance: Utterance,
                detected_at: float, endpoint_ms: float, recognition_ms: float, reply_ms: float, ignored: str) -> Turn:
        doubt = why_not_understood(heard, self.settings.min_confidence) if intent.name == "none" else ""
        turn = Turn(heard.text, heard.confidence, intent, reply, utterance.end, detected_at, endpoint_ms,
                    recognition_ms, reply_ms, ignored, doubt)
        if self.settings.record_dir is not None:
            self._keep(utterance, turn)
        self.turns.append(turn)
        self.turn_count += 1
        if self.on_turn is not None:
            self.on_turn(turn)
        return turn

    def _keep(self, utterance: Utterance, turn: Turn) -> None:
        from voicecoach.audio.wavfile import write_wav

        folder = self.settings.record_dir
        folder.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
        write_wav(folder / f"{self.turn_count:04d}-{utterance.start:08.2f}s-{turn.intent.name}.wav",  # type: ignore[operator]
                  utterance.samples)

    # -- speaking -------------------------------------------------------------------------------------

    def _say(self, reply: Reply) -> None:
        if self.on_reply is not None:
            self.on_reply(reply)
        self._said.add(reply.text, time.monotonic())
        self._task = self.speaker.speak_async(reply.text, rate=reply.rate, on_done=self._ahead_of(reply))
        if self.settings.wait_for_speech:
            self._task.wait(timeout=120)
        if reply.action is Action.END:
            self.ended = True

    def _ahead_of(self, reply: Reply) -> Callable[[SpeechResult], None] | None:
        """When the speaker can make speech ahead: a callback for the end of `reply` that makes the first
        sentence of the likely next replies (reading on: the next paragraph or step), worked out now, on
        this thread, since the coach is not thread-safe."""
        prepare = getattr(getattr(self.speaker, "synthesizer", None), "prepare", None)
        if prepare is None or reply.action is Action.END:
            return None
        openings = self.coach.likely_openings()
        return (lambda result: prepare(openings)) if openings else None

    def _interrupt(self) -> None:
        """Stop the coach mid-reply and tell it how many sentences were heard."""
        task = self._task
        self.speaker.stop()
        result = task.wait(timeout=2.0) if task is not None else None
        if result is not None and not result.completed:
            self.coach.interrupted(result.sentences_spoken)

    def _continue_reading(self) -> None:
        """In continuous mode, read on (more of the step, then the next step) whenever the coach is quiet."""
        if not self.settings.continuous or self.ended or self.speaker.speaking:
            return
        if self._task is not None and not self._task.done:
            return
        state = self.coach.state
        if state.paused or state.pending.value != "none" or state.safety_hold or state.finished:
            return
        if self.endpointer.in_speech or state.place is None:
            return
        self.handle_intent(Intent(self.coach.reading_on(), {}, 1.0, "(continuous)"))

    def _on_device(self, event: DeviceEvent) -> None:
        """Keep the exact place when the voice was cut off by a lost speaker, and tell the listener."""
        if event.role == "speaker" and not event.available and self._task is not None:
            try:
                result = self._task.wait(timeout=2.0)
            except Exception as error:  # the speaker failed outright: nothing more is known
                log.info("the reply cut off by the lost speaker failed: %s", error)
                result = None
            if result is not None and result.stopped:
                self.coach.interrupted(result.sentences_spoken)
        self._say(self.coach.audio_changed(event.role, event.available))

    def handle_intent(self, intent: Intent) -> Reply:
        """Act on an intent that did not come from the microphone (continuous reading, a typed command)."""
        reply = self.coach.handle(intent)
        self._say(reply)
        return reply
