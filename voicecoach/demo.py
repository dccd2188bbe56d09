"""`voicecoach demo`: a scripted, headless session through the real loop, recorded to one WAV.

The listener's lines are synthesized with a command-line voice, fed frame by frame through the session
(endpointer, recognizer, intent matcher, coach); the coach's replies are synthesized into the same WAV.
No microphone, speaker or network is used.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

import numpy as np
import yaml

from voicecoach.audio.frames import SAMPLE_RATE, split_frames
from voicecoach.audio.synth import synthesize
from voicecoach.audio.wavfile import read_wav, read_wav_info
from voicecoach.coach.machine import Coach
from voicecoach.guide.model import Guide
from voicecoach.session import Session, SessionSettings, Turn
from voicecoach.speech.recognizer import Recognizer
from voicecoach.voice.clip import AudioClip
from voicecoach.voice.recorders import WavFileSpeaker
from voicecoach.voice.engines import choose_synthesizer

PAUSE_BEFORE_LISTENER = 0.6  # seconds of silence between the coach and the listener
TRAILING_SILENCE = 1.0  # seconds fed after each line so the endpointer can close the utterance


@dataclass(frozen=True)
class DemoScript:
    listener_voice: str
    lines: tuple[str, ...]


def load_demo_script() -> DemoScript:
    data = yaml.safe_load(resources.files("voicecoach").joinpath("demo_script.yaml").read_text("utf-8"))
    return DemoScript(data["listener_voice"], tuple(data["lines"]))


class _TimedSynthesizer:
    """The coach's synthesizer (Piper or espeak-ng, see voice.engines), noting when each sentence
    finished rendering (for the first-audio timing)."""

    def __init__(self) -> None:
        self._inner = choose_synthesizer()
        self.settings = self._inner.settings
        self.finished_at: list[float] = []

    def synthesize(self, text: str, rate: int | None = None) -> AudioClip:
        clip = self._inner.synthesize(text, rate)
        self.finished_at.append(time.monotonic())
        return clip


@dataclass(frozen=True)
class DemoTurn:
    said: str
    turn: Turn | None
    first_audio_ms: float | None


def run_demo(guide: Guide, recognizer: Recognizer, out_path: Path, out: TextIO,
             script: DemoScript | None = None) -> list[DemoTurn]:
    """Play the script through a real session; print the conversation with timings; write the WAV."""
    script = script or load_demo_script()
    synthesizer = _TimedSynthesizer()
    results: list[DemoTurn] = []
    with tempfile.TemporaryDirectory(prefix="voicecoach-demo-") as tmp, \
            WavFileSpeaker(out_path, synthesizer=synthesizer, sample_rate=SAMPLE_RATE, gap=0.3) as speaker:
        coach = Coach(guide, fresh=True, confirm_end=True)  # a demo never touches the listener's saved progress
        session = Session(coach, recognizer, speaker, SessionSettings())
        opening = session.start()
        session.wait_until_quiet()
        print(f"coach>    {opening.text}", file=out)
        for number, line in enumerate(script.lines, 1):
            clip_path = synthesize(line, Path(tmp) / f"listener-{number}.wav", script.listener_voice)
            samples = read_wav(clip_path)
            speaker.add_silence(PAUSE_BEFORE_LISTENER)
            speaker.add_audio(samples, SAMPLE_RATE)
            turns_before = session.turn_count
            fed = np.concatenate([samples, np.zeros(int(TRAILING_SILENCE * SAMPLE_RATE), np.int16)])
            for frame in split_frames(fed):
                session.feed(frame)
            turn = session.turns[-1] if session.turn_count > turns_before else None
            first_audio = None
            if turn is not None and turn.reply is not None:
                session.wait_until_quiet()
                rendered = [t for t in synthesizer.finished_at if t >= turn.detected_at]
                first_audio = (rendered[0] - turn.detected_at) * 1000 if rendered else None
            results.append(DemoTurn(line, turn, first_audio))
            _print_turn(out, line, turn, first_audio)
            if session.ended:
                break
        session.finish()
    print(f"\nWrote the whole session, both voices, to {out_path} ({read_wav_info(out_path).duration:.1f} s of audio).", file=out)
    return results


def _print_turn(out: TextIO, said: str, turn: Turn | None, first_audio_ms: float | None) -> None:
    print(f"\nlistener> {said}", file=out)
    if turn is None:
        print("  (no speech found)", file=out)
        return
    slots = " ".join(f"{k}={v}" for k, v in turn.intent.slots.items() if k != "text")
    print(f"  heard {turn.heard!r} (confidence {turn.confidence:.2f}) → {turn.intent.name}"
          f"{' ' + slots if slots else ''}", file=out)
    first = f"{first_audio_ms:.0f}" if first_audio_ms is not None else "-"
    print(f"  timings ms: endpoint {turn.endpoint_ms:.0f}, recognition {turn.recognition_ms:.0f}, "
          f"reply {turn.reply_ms:.1f}, first audio {first}", file=out)
    if turn.reply is not None:
        print(f"coach>    {turn.reply.text}", file=out)
    elif turn.ignored:
        print(f"  (ignored: {turn.ignored})", file=out)
