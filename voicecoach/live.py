"""Assembling a live session from the user's options: the audio source, recognizer, speaker and status."""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from voicecoach.audio.echo import ReferenceEchoFilter
from voicecoach.audio.echo_canceller import CaptureEchoCanceller, EchoCancellingSource, choose_echo_canceller
from voicecoach.audio.echo_canceller import summary as echo_summary
from voicecoach.audio.events import DeviceEvent
from voicecoach.audio.frames import FRAME_MS
from voicecoach.coach.machine import Coach
from voicecoach.coach.progress import ProgressStore
from voicecoach.coach.replies import Reply
from voicecoach.guide.model import Guide
from voicecoach.session import Session, SessionSettings, Turn
from voicecoach.speech.engine import build_recognizer
from voicecoach.speech.recognizer import Recognizer
from voicecoach.speech.worker import RecognizerProcess
from voicecoach.status import StatusLine
from voicecoach.understanding import vocabulary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveOptions:
    input_path: Path | None = None
    realtime: bool = False
    wav_out: Path | None = None
    input_device: str | None = None
    output_device: str | None = None
    voice: str | None = None
    rate: int | None = None
    volume: float = 1.0
    wake_phrase: str | None = None
    continuous: bool = False
    fresh: bool = False
    quiet: bool = False
    engine: str = "auto"
    model: Path | None = None
    min_confidence: float | None = None
    record_dir: Path | None = None
    hangover_ms: int | None = None
    early_ms: int | None = None  # the pause at which a complete command is acted on (0: wait the hangover)
    echo_cancel: str = "auto"  # auto|on|off: WebRTC AEC3 in the capture path (voicecoach.audio.echo_canceller)


def listening_phrases(guide: Guide, wake_phrase: str | None) -> list[str]:
    """The phrases the recognizer listens for; with a wake phrase, each command also after it."""
    phrases = vocabulary.recognizer_phrases(guide)
    if wake_phrase:
        wake = " ".join(wake_phrase.lower().split())
        phrases = [wake] + [f"{wake} {p}" for p in phrases] + phrases
    return phrases


def open_recognizer(guide: Guide, options: LiveOptions, own_process: bool = False) -> Recognizer:
    """Vosk when a model is installed (or asked for), else PocketSphinx, with a one-line notice. With
    `own_process`, it decodes in a child process so that it never stalls the audio callbacks."""
    phrases = listening_phrases(guide, options.wake_phrase)
    notice = lambda message: print(f"voicecoach: {message}", file=sys.stderr)  # noqa: E731
    if own_process:
        return RecognizerProcess(phrases, options.engine, options.model, notice=notice)
    return build_recognizer(phrases, options.engine, options.model, notice=notice)


def _with_echo_canceller(source, history, mode: str):
    """The microphone with the coach's voice cancelled frame by frame (when a canceller is available and
    the speaker keeps a playback history), and the stage; the choice is said in one line at startup."""
    choice = choose_echo_canceller(mode)
    if choice.available and history is None:
        print("voicecoach: echo cancellation: not needed (the coach's voice does not go to a speaker)",
              file=sys.stderr, flush=True)
        return source, None
    print(f"voicecoach: {choice.describe()}", file=sys.stderr, flush=True)
    if not choice.available:
        return source, None
    stage = CaptureEchoCanceller(choice.create(), history)
    return EchoCancellingSource(source, stage), stage


def _device(spec: str | None) -> str | int | None:
    return int(spec) if spec is not None and spec.isdigit() else spec


def _end_on_stop_signals() -> None:
    """Ctrl-C (SIGINT) and a service manager's stop (SIGTERM: systemd, a Pi shutting down) end the session
    alike: the place is saved, the devices closed, the closing lines printed (Python's default would end at
    once on SIGTERM). Only the first stop interrupts: see `_ignore_further_stops`."""
    def interrupt(signum, frame) -> None:
        _ignore_further_stops()
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, interrupt)
        signal.signal(signal.SIGTERM, interrupt)


def _ignore_further_stops() -> None:
    """The session is ending: a repeated Ctrl-C or SIGTERM (an impatient user, a supervisor stopping again)
    must not cut the closing short. When one did, the voice went on synthesizing on its daemon thread into
    interpreter teardown, where onnxruntime's run ended in "terminate called without an active exception"
    (SIGABRT), and PortAudio's exit handler closed the still-open output stream ("lost the speaker", at
    times a crash). Every close below is bounded, so nothing waits forever. A do-nothing handler, not
    SIG_IGN: with SIG_IGN Python reports a signal already pending as "ignored due to race condition"."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _ignore_stop)


def _ignore_stop(signum, frame) -> None:
    """Nothing: not even a log line, which could re-enter a write the main thread is making."""


def run_session(guide: Guide, options: LiveOptions, out: TextIO) -> int:
    """Run until the listener says goodbye, the recording ends, or Ctrl-C; progress is saved either way."""
    from voicecoach.voice.factory import open_speaker

    _end_on_stop_signals()
    file_input = options.input_path is not None
    devices = _DeviceReporter()
    # Live devices have real-time callbacks in this process; a file and a WAV speaker have none.
    recognizer = open_recognizer(guide, options, own_process=not file_input)
    if file_input:
        from voicecoach.audio.wavfile import WavSource

        source = WavSource(options.input_path, realtime=options.realtime)
    else:
        from voicecoach.audio.microphone import MicrophoneSource

        source = MicrophoneSource(_device(options.input_device), on_event=devices.report)
    status = StatusLine(enabled=not options.quiet and not file_input)
    canceller: CaptureEchoCanceller | None = None
    devices.status = status
    speaker = None
    session = None
    try:
        speaker = open_speaker(device=_device(options.output_device), voice=options.voice, rate=options.rate,
                               volume=options.volume, wav_path=options.wav_out,
                               text_only=file_input and options.wav_out is None, text_stream=out,
                               on_event=devices.report)
        if file_input and options.wav_out is not None and options.realtime:
            speaker.realtime = True  # type: ignore[attr-defined]
        coach = Coach(guide, progress=ProgressStore(), fresh=options.fresh, rate=options.rate, confirm_end=True)
        _prepare_meaning_layers(guide, in_background=not file_input)
        settings = SessionSettings(wake_phrase=options.wake_phrase, continuous=options.continuous,
                                   wait_for_speech=file_input and not options.realtime,
                                   record_dir=options.record_dir)
        if options.hangover_ms is not None:
            settings.endpoint = dataclasses.replace(settings.endpoint, hangover_ms=options.hangover_ms)
        if options.early_ms is not None:
            settings.endpoint = dataclasses.replace(settings.endpoint, early_ms=options.early_ms)
        if options.min_confidence is not None:
            settings.min_confidence = options.min_confidence
        history = getattr(speaker, "history", None)
        echo = ReferenceEchoFilter(history) if history is not None else None  # the backstop, after the canceller
        if not file_input:
            source, canceller = _with_echo_canceller(source, history, options.echo_cancel)
        arrivals = _FrameArrivals(source)

        def on_turn(turn: Turn) -> None:
            shown = f"heard {turn.heard!r} → {turn.intent.name}" if turn.heard else "…"
            status.update(heard=shown, force=True)
            note = f" (ignored: {turn.ignored})" if turn.ignored else ""
            note += f" (not understood: {turn.not_understood})" if turn.not_understood else ""
            line = f"[{turn.at:7.2f}s] heard {turn.heard!r} ({turn.confidence:.2f}) → {turn.intent.name}{_slots(turn)}{note}"
            log.debug("timings ms: endpoint %.0f, recognition %.0f, understanding and reply %.0f",
                      turn.endpoint_ms, turn.recognition_ms, turn.reply_ms)
            arrivals.log_timeline(turn.detected_at)
            if file_input or not status.enabled:
                print(line, file=out, flush=True)
            else:  # the status line shows the latest turn; with -v every turn and its reason goes to the log
                log.info("%s", line)

        def on_reply(reply: Reply) -> None:
            place = coach.state.place
            status.update(step=f"step {place.step}/{len(guide.steps)}" if place else "", mode="speaking")
            if not file_input and status.enabled:
                status.message(f"coach> {reply.text}")
            elif options.wav_out is not None or not file_input:
                print(f"coach> {reply.text}", file=out, flush=True)

        session = Session(coach, recognizer, speaker, settings, echo_filter=echo,
                          playback=history, on_turn=on_turn, on_reply=on_reply,
                          echo_settled=(lambda: canceller.settled) if canceller is not None else None)
        devices.session = session
        session.run(arrivals,
                    on_frame=lambda frame: status.update(mode="speaking" if speaker.speaking else "listening",
                                                         frame=frame))
    except KeyboardInterrupt:
        _ignore_further_stops()
        if session is not None:
            session.coach.save()
        status.close()
        print("\nStopped. Your place is saved.", file=out, flush=True)
        return 130
    finally:
        _ignore_further_stops()
        _close_in_order(status, source, canceller, speaker, recognizer)
    return 0


def _prepare_meaning_layers(guide: Guide, in_background: bool) -> None:
    """Build the meaning layers before the first utterance needs them. Live, in the background: from a cold
    cache that takes about a minute, and building them on the first utterance froze the loop that long
    (nothing heard, replies lost); meanwhile the words alone answer. From a file, first: the same file must
    always give the same turns."""
    from voicecoach.understanding import semantic
    from voicecoach.understanding.warm import build_meaning_layers

    threading.Thread(target=_compile_word_rules, name="voicecoach-word-rules", daemon=True).start()
    if in_background:
        semantic.build_in_background(lambda: build_meaning_layers(guide))
    else:
        build_meaning_layers(guide)


def _compile_word_rules() -> None:
    """Compile the crisis patterns, the command catalog and the table of commands that may still grow, while the
    welcome plays (at the normal priority: the first utterance may need them). Compiled by the first utterance,
    they held its reply back by about 1.4 s (bench/latency.py --verbose; py-spy)."""
    from voicecoach.understanding.completeness import may_become_another
    from voicecoach.understanding.matcher import compiled_catalog
    from voicecoach.understanding.safety import find_concern

    find_concern("compiling the patterns now")
    compiled_catalog()
    may_become_another("next", "next")


def _close_in_order(status: StatusLine, source, canceller: CaptureEchoCanceller | None, speaker,
                    recognizer: Recognizer) -> None:
    """Stop capture, then playback and the voice, then the recognizer's child process, each even if one
    before it failed: a native library left running (an onnxruntime voice mid-sentence, an open PortAudio
    stream) at interpreter teardown aborts the process after the place was saved."""
    def step(what: str, close) -> None:
        try:
            close()
        except Exception:  # the next component must still be closed
            log.exception("closing the %s failed", what)

    from voicecoach.understanding import semantic

    step("meaning layers being built", semantic.stop_building)
    step("status line", status.close)
    step("audio input", source.close)
    _log_audio_health(source, speaker)
    if canceller is not None:  # one line: how late the coach heard itself and how much was removed
        print(f"voicecoach: {echo_summary(canceller)}", file=sys.stderr, flush=True)
    if speaker is not None:
        step("speaker and voice", speaker.close)
    if isinstance(recognizer, RecognizerProcess):
        step("recognizer process", recognizer.close)


class _FrameArrivals:
    """The frames of a source, noting when the latest reached the loop and (when the source knows) when it was
    captured: with -vv each turn's timeline says where the time between the microphone and the reply went."""

    def __init__(self, source) -> None:
        self.source = source
        self.arrived: float | None = None

    def __iter__(self):
        for frame in self.source.frames():
            self.arrived = time.monotonic()
            yield frame

    def log_timeline(self, handed_over: float) -> None:
        """The deciding frame's capture end and arrival, and the utterance's hand-over (time.monotonic(), which
        other processes on the machine share: bench/latency.py lines them up with what it played)."""
        captured = getattr(self.source, "last_captured_at", None)
        if captured is not None and self.arrived is not None:
            log.debug("timeline s: deciding frame captured by %.3f, reached the loop %.3f, utterance handed over %.3f",
                      captured + FRAME_MS / 1000, self.arrived, handed_over)


class _DeviceReporter:
    """Shows device losses and returns on the terminal at once, and hands them to the session."""

    def __init__(self) -> None:
        self.session: Session | None = None
        self.status: StatusLine | None = None

    def report(self, event: DeviceEvent) -> None:
        message = f"voicecoach: {event.describe()}"
        if self.status is not None and self.status.enabled:
            self.status.message(message)
        else:
            print(message, file=sys.stderr, flush=True)
        if self.session is not None:
            self.session.device_event(event)


def _log_audio_health(source: object, speaker: object) -> None:
    """Audio lost to scheduling stalls (a busy machine): worth knowing when replies sound choppy."""
    overflows = getattr(source, "input_overflows", 0)
    underruns = getattr(speaker, "underruns", 0)
    if overflows or underruns:
        log.info("audio stalls this session: %d microphone overflows, %d output underruns", overflows, underruns)


def _slots(turn: Turn) -> str:
    slots = {k: v for k, v in turn.intent.slots.items() if k != "text"}
    return (" " + " ".join(f"{k}={v}" for k, v in slots.items())) if slots else ""
