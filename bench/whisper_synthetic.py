"""Whisper on our own command phrasings spoken by synthetic voices: clean, in babble and in kitchen noise
at 10 dB, and false commands per minute of read speech and coffee orders; PocketSphinx in the same run.

    .venv/bin/python bench/whisper_synthetic.py            # both halves, Whisper and PocketSphinx
    .venv/bin/python bench/whisper_synthetic.py --half tuning --no-sphinx
    .venv/bin/python bench/whisper_synthetic.py --compare  # beam 1 and 1 thread against the defaults

Phrasings are bench/data/commands-heldout.yaml (written apart from the matcher), split there into tune
and test; the voices are split too (the tuning voices are the ones bench/soak.py and bench/speech.py
use, the test voices are other espeak-ng accents and variants and flite's kal), so a test utterance is a
phrasing and a voice never looked at while tuning. A command is right when the intent (and its slots)
from the audio is the one the matcher gives the written phrasing in its context: this judges the ears,
not the matcher (whose own errors bench/intents.py reports). The babble is four synthetic talkers (tuning
voices) reading sentences that hold no command; the kitchen noise is the real recording, first minute for tuning, second
for test; the coffee orders split by a hash of the file name, as in bench/whisper.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from voicecoach.audio.endpoint import find_utterances  # noqa: E402
from voicecoach.audio.frames import SAMPLE_RATE, split_frames  # noqa: E402
from voicecoach.audio.synth import cached_synthesis  # noqa: E402
from voicecoach.audio.wavfile import read_wav  # noqa: E402
from voicecoach.guide.library import find_guide  # noqa: E402
from voicecoach.guide.model import Guide  # noqa: E402
from voicecoach.speech.pipeline import understand  # noqa: E402
from voicecoach.understanding.intents import DialogueContext  # noqa: E402
from voicecoach.understanding.matcher import match_intent  # noqa: E402

SHARED = Path(os.environ.get("VOICECOACH_SHARED", "/work/shared"))
PICOVOICE = SHARED / "peer-data" / "picovoice-speech-to-intent"
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
PHRASINGS = REPO / "bench" / "data" / "commands-heldout.yaml"
CACHE = Path(tempfile.gettempdir()) / "voicecoach-bench-synth"
VOICES = {
    "tuning": ("espeak-ng:en-us", "espeak-ng:en-us+f3", "espeak-ng:en-gb", "espeak-ng:en-gb-x-rp+m3",
               "flite:slt", "flite:rms", "flite:awb", "flite:kal16"),
    "test": ("espeak-ng:en-gb-scotland", "espeak-ng:en-029", "espeak-ng:en-us-nyc+f2",
             "espeak-ng:en-gb-x-gbcwmd+m5", "espeak-ng:en-us+m7", "espeak-ng:en-gb-x-gbclan+f4", "flite:kal"),
}
BABBLE_TEXT = ("the weather was fine and everyone went down to the river to talk about the harvest",
               "my sister bought a new car last week and drove it all the way to the coast",
               "they said the train would be late again so we waited in the little cafe",
               "put the plates on the table and call the children in from the garden")
DEFAULT_CONTEXT = {"step": 4}
SNR_DB = 10.0
HALVES = ("tuning", "test")


@dataclass(frozen=True)
class Spoken:
    """One phrasing said by one voice in one condition, and what the matcher makes of its words."""

    text: str
    voice: str
    condition: str  # "clean", "babble 10 dB", "kitchen 10 dB"
    half: str
    context: DialogueContext
    wanted: tuple[str, tuple[tuple[str, Any], ...]]  # intent and slots of the written phrasing
    samples: np.ndarray


@dataclass(frozen=True)
class Prose:
    """Speech not meant for the coach: any command it gives is a false one."""

    kind: str  # "read speech (LibriVox)", "coffee orders", "guide read by synthetic voices"
    name: str
    half: str
    samples: np.ndarray

    @property
    def minutes(self) -> float:
        return len(self.samples) / SAMPLE_RATE / 60


def file_half(name: str) -> str:
    return "tuning" if zlib.crc32(name.encode()) % 2 == 0 else "test"


def intent_key(intent: Any) -> tuple[str, tuple[tuple[str, Any], ...]]:
    return intent.name, tuple(sorted((k, v) for k, v in intent.slots.items() if k in ("step", "topic")))


def phrasings(guide: Guide, half: str) -> list[tuple[str, DialogueContext, tuple]]:
    """The half's command phrasings that the matcher gets right as text (its own misses are not ours)."""
    chosen = []
    for case in yaml.safe_load(PHRASINGS.read_text("utf-8"))["cases"]:
        if ("tune" if half == "tuning" else "test") != case.get("split"):
            continue
        wanted = case["intent"] if isinstance(case["intent"], list) else [case["intent"]]
        context = DialogueContext.from_mapping({**DEFAULT_CONTEXT, **(case.get("context") or {})})
        intent = match_intent(case["text"], guide, context)
        if intent.name in ("none", "question") or intent.name not in wanted:
            continue
        chosen.append((case["text"], context, intent_key(intent)))
    return chosen


def babble() -> np.ndarray:
    """Four synthetic talkers at once (tuning voices) reading sentences that hold no command."""
    voices = VOICES["tuning"][::2]
    talkers = [read_wav(cached_synthesis(t, CACHE, v)) for t, v in zip(BABBLE_TEXT, voices)]
    length = max(len(t) for t in talkers)
    mixed = sum(np.resize(t, length).astype(np.int32) for t in talkers)
    return np.clip(mixed, -32768, 32767).astype(np.int16)


def kitchen(half: str) -> np.ndarray:
    noise = read_wav(PICOVOICE / "kitchen-noise.wav")
    middle = len(noise) // 2
    return noise[:middle] if half == "tuning" else noise[middle:]


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Speech over a random stretch of noise at snr_db, the speech's power taken over its voiced part."""
    speech_f = speech.astype(np.float64)
    start = int(rng.integers(0, max(1, len(noise) - len(speech_f))))
    piece = np.resize(noise[start:start + len(speech_f)].astype(np.float64), len(speech_f))
    voiced = speech_f[np.abs(speech_f) > 0.05 * np.abs(speech_f).max()]
    gain = np.sqrt(np.mean(voiced ** 2) / ((np.mean(piece ** 2) or 1.0) * 10 ** (snr_db / 10)))
    return np.clip(speech_f + piece * gain, -32768, 32767).astype(np.int16)


def spoken_commands(guide: Guide, half: str, voices_per_phrasing: int = 1) -> list[Spoken]:
    """Each phrasing of the half by voices_per_phrasing of the half's voices (in turn), in three conditions."""
    voices = VOICES[half]
    rng = np.random.default_rng(13 if half == "tuning" else 29)
    noises = {f"babble {SNR_DB:.0f} dB": babble(), f"kitchen {SNR_DB:.0f} dB": kitchen(half)}
    pad = np.zeros(SAMPLE_RATE // 2, np.int16)
    out = []
    for index, (text, context, wanted) in enumerate(phrasings(guide, half)):
        for k in range(voices_per_phrasing):
            voice = voices[(index * voices_per_phrasing + k) % len(voices)]
            clean = np.concatenate([pad, read_wav(cached_synthesis(text, CACHE, voice)), pad])
            out.append(Spoken(text, voice, "clean", half, context, wanted, clean))
            for condition, noise in noises.items():
                out.append(Spoken(text, voice, condition, half, context, wanted, mix(clean, noise, SNR_DB, rng)))
    return out


def prose(guide: Guide, half: str) -> list[Prose]:
    """Real read speech (LibriVox), real coffee orders, and the guide's own text read by the half's voices."""
    # LibriVox here is five clips (25 s): too little to split, never used for tuning, reported with the test half
    items = [Prose("read speech (LibriVox)", p.name, half, read_wav(p)) for p in sorted(LIBRIVOX.glob("*.wav"))
             if half == "test"]
    items += [Prose("coffee orders", p.name, half, read_wav(p)) for p in sorted((PICOVOICE / "clean").glob("*.wav"))
              if file_half(p.name) == half]
    texts = [s.summary for s in guide.steps] + [b for s in guide.steps for b in s.body]
    for index, text in enumerate(texts):
        if file_half(text) == half:
            voice = VOICES[half][index % len(VOICES[half])]
            items.append(Prose("guide read by synthetic voices", text[:30], half,
                               read_wav(cached_synthesis(text, CACHE, voice))))
    return items


def utterances(samples: np.ndarray) -> list[np.ndarray]:
    return [u.samples for u in find_utterances(split_frames(samples))]


@dataclass
class Timed:
    right: bool
    seconds: list[float]
    cpu: list[float]


def hear_command(recognizer: Any, item: Spoken, guide: Guide) -> Timed:
    """The first intent the utterances of one spoken command give, judged against the written phrasing."""
    got: tuple = ("none", ())
    seconds, cpu = [], []
    for samples in utterances(item.samples):
        started, cpu_started = time.perf_counter(), time.process_time()
        transcript = recognizer.recognize(samples)
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        intent = understand(transcript, guide, item.context)
        if intent.name != "none":
            got = intent_key(intent)
            break
    return Timed(got == item.wanted, seconds, cpu)


TALK_TURNS = ("question", "safety")  # what prose may honestly give: counted apart from commands


def false_commands(recognizer: Any, items: Sequence[Prose], guide: Guide) -> dict[str, tuple[int, float, int]]:
    """kind -> (commands fired, minutes of audio, question or safety turns), at step 4 of the guide. A
    question or safety turn on prose is the matcher's reading of words heard right, not a command."""
    out: dict[str, list[float]] = {}
    for item in items:
        names = [understand(recognizer.recognize(u), guide, DialogueContext(**DEFAULT_CONTEXT)).name
                 for u in utterances(item.samples)]
        row = out.setdefault(item.kind, [0, 0.0, 0])
        row[0] += sum(n not in ("none", *TALK_TURNS) for n in names)
        row[1] += item.minutes
        row[2] += sum(n in TALK_TURNS for n in names)
    return {k: (int(v[0]), float(v[1]), int(v[2])) for k, v in out.items()}


@dataclass
class Figures:
    """One recognizer on one half: right per condition, false commands per kind, time per clean command."""

    right: dict[str, tuple[int, int]]
    fired: dict[str, tuple[int, float, int]]
    seconds: list[float]
    cpu: list[float]


def measure(recognizer: Any, commands: Sequence[Spoken], talk: Sequence[Prose], guide: Guide) -> Figures:
    right: dict[str, list[int]] = {}
    seconds, cpu = [], []
    for item in commands:
        timed = hear_command(recognizer, item, guide)
        row = right.setdefault(item.condition, [0, 0])
        row[0] += timed.right
        row[1] += 1
        if item.condition == "clean" and timed.seconds:
            seconds.append(timed.seconds[0])
            cpu.append(timed.cpu[0])
    return Figures({k: (v[0], v[1]) for k, v in right.items()}, false_commands(recognizer, talk, guide), seconds, cpu)


def print_half(half: str, ours: Figures, theirs: Figures | None, title: str = "whisper") -> None:
    print(f"\n{half} half: {title}" + ("" if theirs is None else " vs pocketsphinx (same run)"))
    for condition, (hits, n) in ours.right.items():
        line = f"  {condition:<32} {n:4d} commands  {100 * hits / n:5.1f}% right"
        if theirs is not None:
            other = theirs.right[condition][0]
            line += f"   pocketsphinx {100 * other / n:5.1f}%   ratio {hits / max(other, 1):.2f}"
        print(line)
    for kind, (fired, minutes, talk) in ours.fired.items():
        line = f"  {kind:<32} {minutes:5.1f} min  {fired:3d} commands = {fired / minutes:5.2f}/min (+{talk} q/safety)"
        if theirs is not None:
            other, _minutes, other_talk = theirs.fired[kind]
            line += f"   pocketsphinx {other:3d} = {other / minutes:5.2f}/min (+{other_talk})"
        print(line)
    med, cpu = 1000 * statistics.median(ours.seconds), 1000 * statistics.median(ours.cpu)
    line = f"  time per clean command: median {med:.0f} ms wall, {cpu:.0f} ms CPU"
    if theirs is not None:
        smed, scpu = 1000 * statistics.median(theirs.seconds), 1000 * statistics.median(theirs.cpu)
        line += f"; pocketsphinx {smed:.0f} ms wall, {scpu:.0f} ms CPU; ratio {med / smed:.1f}x wall, {cpu / scpu:.1f}x CPU"
    print(line, flush=True)


def main() -> None:
    from voicecoach.speech.engine import whisper_model_folder
    from voicecoach.speech.sphinx import PocketSphinxRecognizer
    from voicecoach.speech.whisper_engine import WhisperRecognizer, WhisperSettings
    from voicecoach.understanding.vocabulary import recognizer_phrases

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=HALVES, action="append", help="only this half (default both)")
    parser.add_argument("--no-sphinx", action="store_true", help="Whisper only")
    parser.add_argument("--compare", action="store_true",
                        help="on the test halves (synthetic and real speakers): the defaults against beam 1 with 1 thread")
    parser.add_argument("--all-variants", action="store_true", help="with --compare: beam 1 and 1 thread alone too")
    args = parser.parse_args()
    guide = find_guide(None)
    phrases = recognizer_phrases(guide)  # what the live loop gives its recognizer
    folder = whisper_model_folder()
    started = time.time()
    print(f"load average {os.getloadavg()[0]:.1f} / {os.getloadavg()[1]:.1f} / {os.getloadavg()[2]:.1f} on "
          f"{os.cpu_count()} cores (other work shares them: times are noisy)", flush=True)
    if args.compare:
        from bench import whisper as real_voices
        commands, talk = spoken_commands(guide, "test"), prose(guide, "test")
        people = [i for i in real_voices.load_items() if i.half == "test"]
        defaults = WhisperSettings()
        variants = [defaults, replace(defaults, beam_size=1, num_hypotheses=1, cpu_threads=1)]
        if args.all_variants:
            variants[1:1] = [replace(defaults, beam_size=1, num_hypotheses=1), replace(defaults, cpu_threads=1)]
        for variant in variants:
            recognizer = WhisperRecognizer(folder, phrases, variant)
            figures = measure(recognizer, commands, talk, guide)
            title = f"whisper beam {variant.beam_size}, {variant.cpu_threads} threads"
            print_half("test", figures, None, title)
            outcomes = real_voices.run(recognizer, people, guide)
            med, _p95 = real_voices.timing(outcomes)
            cpu = 1000 * statistics.median(c for o in outcomes if o.item.group in real_voices.COMMANDS for c in o.cpu)
            print(f"  real speakers, test half: {real_voices.cells(real_voices.table(outcomes))}; "
                  f"median {med:.0f} ms wall, {cpu:.0f} ms CPU per command", flush=True)
        print(f"\n{time.time() - started:.0f} s in all")
        return
    for half in args.half or HALVES:
        commands, talk = spoken_commands(guide, half), prose(guide, half)
        ours = measure(WhisperRecognizer(folder, phrases), commands, talk, guide)
        theirs = None if args.no_sphinx else measure(PocketSphinxRecognizer(phrases), commands, talk, guide)
        print_half(half, ours, theirs)
    print(f"\n{time.time() - started:.0f} s in all; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
