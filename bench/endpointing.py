"""Adaptive endpointing against the fixed hangover, in one run, on the same audio and the same recognizer (the one
`auto` picks): for each clip, the real Session is fed its frames (a WAV stream, no devices), with early
decisions off, on, and on with decoding ahead (from the first `--speculate-ms` of a pause). Measured from the end of the words in the clip (the last 30 ms frame above
-40 dBFS), to the moment the utterance was handed over (its stream time): the wait the endpointer adds.

Clips: the shared dev commands (`../shared/eval/commands-dev.yaml`) in two synthetic voices, real people's
"stop", "yes", "no", "forward" and "backward" (Speech Commands test speakers), and spoken questions from the
sixth batch split at a word near their middle with a 300 ms pause between the halves (they must never be cut
short). Early-decision errors: a command whose outcome differs from the fixed hangover's, a question heard as
more than one turn; decoding ahead must change no outcome of the early decisions (it decodes the same audio,
with zeros for the room's sound in the silence), and costs the decodes it makes and does not use (CPU seconds
of this process per configuration; wall time is not measured: the clips are fed faster than real time).

    .venv/bin/python bench/endpointing.py [--early-ms 150] [--speculate-ms 30] [--limit N]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from voicecoach.audio.endpoint import EndpointSettings  # noqa: E402
from voicecoach.audio.frames import FRAME_MS, SAMPLE_RATE, split_frames  # noqa: E402
from voicecoach.audio.synth import cached_synthesis  # noqa: E402
from voicecoach.audio.wavfile import read_wav  # noqa: E402
from voicecoach.coach.machine import Coach  # noqa: E402
from voicecoach.guide.library import find_guide  # noqa: E402
from voicecoach.session import Session, SessionSettings  # noqa: E402
from voicecoach.speech.engine import build_recognizer  # noqa: E402
from voicecoach.understanding.vocabulary import recognizer_phrases  # noqa: E402
from voicecoach.voice.recorders import TextSpeaker  # noqa: E402

DEV = REPO.parent / "shared" / "eval" / "commands-dev.yaml"
PEOPLE = REPO.parent / "shared" / "peer-data" / "speech-commands"
QUESTIONS = REPO / "bench" / "data" / "questions-sixth.yaml"
VOICES = ("espeak-ng:en-us", "flite:slt")
PEOPLE_WORDS = ("stop", "yes", "no", "forward", "backward")
PAUSE_MS = 300
LOUD = 328  # -40 dBFS


@dataclass(frozen=True)
class Clip:
    kind: str  # "command" or "question"
    label: str
    samples: np.ndarray


@dataclass(frozen=True)
class Outcome:
    acted: tuple[tuple[str, tuple], ...]  # (intent, slots) of each turn acted on
    wait_ms: float | None  # end of the words -> the first turn handed over
    early: bool
    decodes: int
    ahead: tuple[int, int]  # decodes made ahead, and used
    cpu_s: float


class Counting:
    def __init__(self, recognizer) -> None:
        self.recognizer, self.decodes = recognizer, 0

    def recognize(self, samples, *hearing):
        self.decodes += 1
        return self.recognizer.recognize(samples, *hearing)

    def partial(self, samples) -> str:
        return ""


def words_end(samples: np.ndarray) -> float:
    frames = split_frames(samples)
    loud = [i for i, f in enumerate(frames) if np.sqrt(np.mean(f.astype(float) ** 2)) > LOUD]
    return (loud[-1] + 1) * FRAME_MS / 1000 if loud else 0.0


def trimmed(samples: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 100)
    return samples[loud[0]:loud[-1] + 1] if len(loud) else samples


def silence(ms: int) -> np.ndarray:
    return np.zeros(SAMPLE_RATE * ms // 1000, dtype=np.int16)


def clips(cache: Path, limit: int | None) -> list[Clip]:
    found: list[Clip] = []
    dev = yaml.safe_load(DEV.read_text())["cases"][:limit]
    for voice in VOICES:
        for case in dev:
            wav = read_wav(cached_synthesis(case["text"], cache, voice))
            found.append(Clip("command", f"{voice}: {case['text']}", np.concatenate([silence(300), wav, silence(1200)])))
    for word in PEOPLE_WORDS:
        for path in sorted((PEOPLE / word).glob("*.wav"))[: limit or 20]:
            found.append(Clip("command", f"person: {word} ({path.name})",
                              np.concatenate([silence(300), read_wav(path), silence(1200)])))
    questions = [c["text"] for c in yaml.safe_load(QUESTIONS.read_text())["cases"]][: limit or 60]
    for text in questions:
        words = text.split()
        middle = len(words) // 2
        halves = [trimmed(read_wav(cached_synthesis(" ".join(part), cache, VOICES[0])))
                  for part in (words[:middle], words[middle:])]
        found.append(Clip("question", text, np.concatenate([silence(300), halves[0], silence(PAUSE_MS), halves[1],
                                                             silence(1200)])))
    return found


def run(clip: Clip, guide, recognizer: Counting, early_ms: int, hangover_ms: int, speculate_ms: int = 0) -> Outcome:
    recognizer.decodes = 0
    endpoint = EndpointSettings(early_ms=early_ms, hangover_ms=hangover_ms, speculate_ms=speculate_ms)
    session = Session(Coach(guide, fresh=True), recognizer, TextSpeaker(io.StringIO()), SessionSettings(endpoint=endpoint))
    session.start()
    cpu = time.process_time()
    for frame in split_frames(clip.samples):
        session.feed(frame)
    session.decoder.close()  # a decode made ahead and left unused ends here: its CPU counts
    cpu = time.process_time() - cpu
    turns = list(session.turns)
    acted = tuple((t.intent.name, tuple(sorted(t.intent.slots.items()))) for t in turns if not t.ignored)
    first = turns[0] if turns else None
    wait = None if first is None else (first.at - words_end(clip.samples)) * 1000
    return Outcome(acted, wait, bool(first and first.endpoint_ms < session.settings.endpoint.hangover_ms),
                   recognizer.decodes, (session.decoder.made, session.decoder.used), cpu)


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--early-ms", type=int, default=EndpointSettings().early_ms)
    parser.add_argument("--hangover-ms", type=int, default=EndpointSettings().hangover_ms)
    parser.add_argument("--fixed-hangover-ms", type=int, default=EndpointSettings().hangover_ms,
                        help="the hangover of the fixed endpointer compared against")
    parser.add_argument("--speculate-ms", type=int, default=EndpointSettings().speculate_ms,
                        help="silence after which the third configuration decodes a short utterance ahead")
    parser.add_argument("--limit", type=int, default=None, help="fewer clips of each kind (a quick look)")
    args = parser.parse_args()
    os.environ.setdefault("VOICECOACH_STATE_DIR", tempfile.mkdtemp(prefix="voicecoach-endpointing-"))
    guide = find_guide(None)
    recognizer = Counting(build_recognizer(recognizer_phrases(guide)))
    cache = Path(tempfile.gettempdir()) / "voicecoach-bench-speech"
    cache.mkdir(exist_ok=True)
    every = clips(cache, args.limit)
    results = [(clip, run(clip, guide, recognizer, 0, args.fixed_hangover_ms),
                run(clip, guide, recognizer, args.early_ms, args.hangover_ms),
                run(clip, guide, recognizer, args.early_ms, args.hangover_ms, args.speculate_ms)) for clip in every]
    print(f"recognizer: {recognizer.recognizer.name}; fixed: hangover {args.fixed_hangover_ms} ms; adaptive: "
          f"early decisions at {args.early_ms} ms of silence, else hangover {args.hangover_ms} ms; ahead: adaptive, "
          f"decoded ahead from {args.speculate_ms} ms of silence\n")
    print("| clips | n | wait p50 fixed | wait p50 adaptive | p95 fixed | p95 adaptive | ratio p50 | "
          "acted on early | outcome changed | decodes fixed / adaptive / ahead | made ahead / used | "
          "CPU s fixed / adaptive / ahead |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for kind in ("command", "question"):
        rows = [(c, f, a, s) for c, f, a, s in results if c.kind == kind]
        fixed = [f.wait_ms for _, f, a, _ in rows if f.wait_ms is not None and a.wait_ms is not None]
        adaptive = [a.wait_ms for _, f, a, _ in rows if f.wait_ms is not None and a.wait_ms is not None]
        changed = sum(f.acted != a.acted for _, f, a, _ in rows)
        print(f"| {kind}s | {len(rows)} | {pct(fixed, .5):.0f} ms | {pct(adaptive, .5):.0f} ms | {pct(fixed, .95):.0f} ms "
              f"| {pct(adaptive, .95):.0f} ms | {pct(adaptive, .5) / pct(fixed, .5):.2f} | {sum(a.early for *_, a, _ in rows)} "
              f"| {changed} | {' / '.join(str(sum(o.decodes for o in outcomes)) for outcomes in list(zip(*rows))[1:])} "
              f"| {sum(s.ahead[0] for *_, s in rows)} / {sum(s.ahead[1] for *_, s in rows)} "
              f"| {' / '.join(f'{sum(o.cpu_s for o in outcomes):.1f}' for outcomes in list(zip(*rows))[1:])} |")
    questions = [(c, f, a) for c, f, a, _ in results if c.kind == "question"]
    cut = [(c, a) for c, f, a in questions if len(a.acted) > len(f.acted) or (len(a.acted) > 1)]
    print(f"\nquestions with a {PAUSE_MS} ms pause heard as more than one turn: adaptive {len(cut)} of {len(questions)}, "
          f"fixed {sum(len(f.acted) > 1 for _, f, _ in questions)}, "
          f"ahead {sum(len(s.acted) > 1 for c, _, _, s in results if c.kind == 'question')}")
    for clip, f, a, _ in [r for r in results if r[1].acted != r[2].acted][:20]:
        print(f"  changed: {clip.label!r}: fixed {f.acted} → adaptive {a.acted}")
    ahead_changed = [(c, a, s) for c, _, a, s in results if a.acted != s.acted or a.early != s.early]
    print(f"\ndecoding ahead changed {len(ahead_changed)} outcomes of the early decisions")
    for clip, a, s in ahead_changed[:20]:
        print(f"  changed by decoding ahead: {clip.label!r}: {a.acted} (early {a.early}) → {s.acted} (early {s.early})")


if __name__ == "__main__":
    main()
