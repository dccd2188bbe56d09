"""Whisper recognizer benchmark: real voices split by speaker, noise, other devices' commands, time, memory.

    .venv/bin/python bench/whisper.py                # windows and threads on the tuning half, tuning,
                                                     # then both halves with PocketSphinx in the same run
    .venv/bin/python bench/whisper.py --quick        # only the final table with the default settings
    .venv/bin/python bench/whisper.py --no-compare   # tuning and the final table

The Speech Commands speakers (the id before `_nohash_`) are split into a tuning and a test half by a
hash of the id, fixed before any tuning (bench/speech.py uses the same split); the coffee orders by a
hash of the file name and the kitchen noise by its first and second minute. Thresholds are chosen on
the tuning half only; the test half is reported as it comes. Decoder outputs are cached per utterance,
so a threshold sweep re-runs only the decisions and the matcher.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import math
import os
import resource
import sys
import time
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voicecoach.audio.endpoint import find_utterances  # noqa: E402
from voicecoach.audio.frames import SAMPLE_RATE, split_frames  # noqa: E402
from voicecoach.audio.wavfile import read_wav  # noqa: E402
from voicecoach.guide.library import find_guide  # noqa: E402
from voicecoach.speech.engine import whisper_model_folder  # noqa: E402
from voicecoach.speech.pipeline import DEFAULT_MIN_CONFIDENCE, understand  # noqa: E402
from voicecoach.speech.recognizer import Transcript  # noqa: E402
from voicecoach.speech.sphinx import PocketSphinxRecognizer  # noqa: E402
from voicecoach.speech.whisper_engine import Encoded, Hypothesis, WhisperRecognizer, WhisperSettings  # noqa: E402
from voicecoach.understanding.catalog import command_phrases  # noqa: E402

SHARED = Path(os.environ.get("VOICECOACH_SHARED", "/work/shared"))
SPEECH_COMMANDS = SHARED / "peer-data" / "speech-commands"
PICOVOICE = SHARED / "peer-data" / "picovoice-speech-to-intent"
EXPECTED = {"yes": {"yes"}, "no": {"no"}, "stop": {"pause", "stop"}, "forward": {"next"},
            "backward": {"previous"}, "off": {"none", "pause", "stop"}, "right": {"none", "yes"}}
COMMANDS = ("yes", "no", "stop", "forward", "backward")
FIRING = ("other words", "noise clips", "kitchen noise", "coffee orders")


@dataclass
class Item:
    """One recording: its label, its half, and the utterances the endpointer found in it."""

    label: str
    name: str
    half: str
    utterances: list[np.ndarray] = field(default_factory=list)

    @property
    def group(self) -> str:
        if self.label in EXPECTED:
            return self.label
        return {"_silence_": "noise clips", "kitchen": "kitchen noise", "coffee": "coffee orders"}.get(
            self.label, "other words")


def half_of(key: str) -> str:
    return "tuning" if zlib.crc32(key.encode()) % 2 == 0 else "test"


def load_items() -> list[Item]:
    items = []
    for folder in sorted(p for p in SPEECH_COMMANDS.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.wav")):
            items.append(Item(folder.name, path.name, half_of(path.name.split("_nohash_")[0])))
            items[-1].utterances = _utterances(read_wav(path))
    for path in sorted((PICOVOICE / "clean").glob("*.wav")):
        items.append(Item("coffee", path.name, half_of(path.name), _utterances(read_wav(path))))
    kitchen = read_wav(PICOVOICE / "kitchen-noise.wav")
    middle = len(kitchen) // 2
    items.append(Item("kitchen", "first minute", "tuning", _utterances(kitchen[:middle])))
    items.append(Item("kitchen", "second minute", "test", _utterances(kitchen[middle:])))
    return items


def _utterances(samples: np.ndarray) -> list[np.ndarray]:
    return [u.samples for u in find_utterances(split_frames(samples))]


class CachedWhisper(WhisperRecognizer):
    """The recognizer with its decoder outputs remembered per utterance, and the features of the last
    decision (log-probability, no-speech probability) kept for calibration."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memo: dict[Any, Any] = {}
        self.features: tuple[float, float] | None = None

    def _encode(self, samples: np.ndarray) -> Any:
        return _Lazy(hash(samples.tobytes()), samples)

    def _real(self, lazy: "_Lazy") -> Encoded:
        if lazy.encoded is None:
            lazy.encoded = super()._encode(lazy.samples)
        return lazy.encoded

    def _generate(self, encoded: Any, duration: float) -> tuple[list[Hypothesis], float]:
        key = ("generate", encoded.key)
        if key not in self.memo:
            self.memo[key] = super()._generate(self._real(encoded), duration)
        return self.memo[key]

    def forced_logprobs(self, encoded: Any, phrases: Sequence[str]) -> list[float]:
        missing = [p for p in phrases if ("forced", encoded.key, p) not in self.memo]
        if missing:
            for phrase, score in zip(missing, super().forced_logprobs(self._real(encoded), missing)):
                self.memo[("forced", encoded.key, phrase)] = score
        return [self.memo[("forced", encoded.key, p)] for p in phrases]

    def recognize(self, samples: np.ndarray) -> Transcript:
        self.features = None
        return super().recognize(samples)

    def calibrate(self, logprob: float, no_speech: float) -> float:
        if self.features is None:
            self.features = (logprob, no_speech)
        return super().calibrate(logprob, no_speech)


@dataclass
class _Lazy:
    key: int
    samples: np.ndarray
    encoded: Encoded | None = None


@dataclass
class Outcome:
    """What one recording gave: its intent, and per utterance the time and calibration features."""

    item: Item
    intent: str
    seconds: list[float]
    cpu: list[float]  # CPU seconds of this process (every thread), less disturbed by other load
    features: list[tuple[float, float, bool, str]]  # logprob, no_speech, in grammar, intent


def run(recognizer: Any, items: list[Item], guide: Any, min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> list[Outcome]:
    outcomes = []
    for item in items:
        intents, seconds, cpu, features = [], [], [], []
        for samples in item.utterances:
            started, cpu_started = time.perf_counter(), time.process_time()
            transcript = recognizer.recognize(samples)
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            intent = understand(transcript, guide, None, min_confidence).name
            intents.append(intent)
            if getattr(recognizer, "features", None) is not None and transcript.text:
                uncalibrated = understand(replace(transcript, confidence=1.0), guide, None, 0.0).name
                features.append((*recognizer.features, transcript.in_grammar, uncalibrated))
        outcomes.append(Outcome(item, next((i for i in intents if i != "none"), "none"), seconds, cpu, features))
    return outcomes


def table(outcomes: list[Outcome]) -> dict[str, tuple[int, int]]:
    """group → (hits, n): right for command words, fired for everything else."""
    counts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for outcome in outcomes:
        group = outcome.item.group
        if group == "kitchen noise":  # counted per utterance the endpointer found in the noise
            counts[group][0] += outcome.intent != "none"
            counts[group][1] += max(1, len(outcome.item.utterances))
            continue
        hit = outcome.intent in EXPECTED[group] if group in EXPECTED else outcome.intent != "none"
        counts[group][0] += hit
        counts[group][1] += 1
    return {k: (v[0], v[1]) for k, v in counts.items()}


def objective(counts: dict[str, tuple[int, int]]) -> float:
    """Command accuracy, with firing on other words and noise weighed heavily against it."""
    present = [k for k in COMMANDS if k in counts]  # pooled: forward and backward have few clips
    accuracy = sum(counts[k][0] for k in present) / sum(counts[k][1] for k in present)
    fired = sum(counts[k][0] / counts[k][1] for k in ("other words", "coffee orders") if k in counts)
    noise = sum(counts[k][0] for k in ("noise clips", "kitchen noise") if k in counts)
    return float(accuracy - 3 * fired - 0.05 * noise)


def cells(counts: dict[str, tuple[int, int]]) -> str:
    return "  ".join(f"{k} {100 * h / n:.0f}%" for k, (h, n) in counts.items() if k in COMMANDS or k in FIRING)


def timing(outcomes: list[Outcome]) -> tuple[float, float]:
    """Median and 95th percentile (ms) of recognition time per command-word utterance."""
    seconds = [s for o in outcomes if o.item.group in COMMANDS for s in o.seconds]
    return float(np.median(seconds) * 1000), float(np.percentile(seconds, 95) * 1000)


def fit_calibration(outcomes: list[Outcome]) -> tuple[float, float, float]:
    """Logistic regression of 'the intent is right' on (logprob, no_speech) over every utterance that
    matched an intent, right meaning an intended command and wrong anything else (Newton's method)."""
    rows, targets = [], []
    for outcome in outcomes:
        group = outcome.item.group
        for logprob, no_speech, in_grammar, intent in outcome.features:
            if intent == "none" or group in ("off", "right"):
                continue
            rows.append((logprob, no_speech, 1.0))
            targets.append(float(group in EXPECTED and intent in EXPECTED[group]))
    x, y = np.array(rows), np.array(targets)
    w = np.zeros(3)
    for _ in range(50):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (p - y) + 0.01 * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + 0.01 * np.eye(3)
        w -= np.linalg.solve(hessian, gradient)
    return tuple(round(float(v), 2) for v in w)  # type: ignore[return-value]


def reliability(outcomes: list[Outcome], calibration: tuple[float, float, float]) -> list[str]:
    """Among matched utterances, how often the intent was right per band of calibrated confidence."""
    bands: dict[int, list[int]] = collections.defaultdict(lambda: [0, 0])
    a, b, c = calibration
    for outcome in outcomes:
        group = outcome.item.group
        for logprob, no_speech, _in_grammar, intent in outcome.features:
            if intent == "none" or group in ("off", "right"):
                continue
            confidence = 1 / (1 + math.exp(-(a * logprob + b * no_speech + c)))
            band = min(int(confidence * 5), 4)
            bands[band][0] += group in EXPECTED and intent in EXPECTED[group]
            bands[band][1] += 1
    return [f"  confidence {band / 5:.1f}-{(band + 1) / 5:.1f}: {n:4d} matched, {100 * r / n:5.1f}% right"
            for band, (r, n) in sorted(bands.items())]


def memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def print_final(name: str, outcomes: list[Outcome], sphinx: list[Outcome]) -> None:
    print(f"\n{name}")
    print(f"  {'clips':<14} {'n':>4}  {'whisper':>8}  {'pocketsphinx':>12}")
    for half in ("tuning", "test"):
        ours = table([o for o in outcomes if o.item.half == half])
        theirs = table([o for o in sphinx if o.item.half == half])
        print(f"  -- {half} half{' (held out)' if half == 'test' else ''}")
        for key in (*COMMANDS, "off", "right", *FIRING):
            if key in ours:
                (h, n), (h2, _n2) = ours[key], theirs[key]
                kind = "fired" if key in FIRING else "right"
                count = f"{h} fired" if key in ("noise clips", "kitchen noise") else f"{100 * h / n:6.1f}%"
                count2 = f"{h2} fired" if key in ("noise clips", "kitchen noise") else f"{100 * h2 / n:6.1f}%"
                print(f"  {key:<14} {n:>4}  {count:>8}  {count2:>12}  {kind}")
    (med, p95), (smed, sp95) = timing(outcomes), timing(sphinx)
    cpu = float(np.median([c for o in outcomes if o.item.group in COMMANDS for c in o.cpu]) * 1000)
    scpu = float(np.median([c for o in sphinx if o.item.group in COMMANDS for c in o.cpu]) * 1000)
    print(f"  CPU per command (median): whisper {cpu:.0f} ms, pocketsphinx {scpu:.0f} ms; ratio {cpu / scpu:.1f}x")
    print(f"  time per command: whisper median {med:.0f} ms, p95 {p95:.0f} ms; pocketsphinx median {smed:.0f} ms, "
          f"p95 {sp95:.0f} ms; ratio {med / smed:.1f}x median, {p95 / sp95:.1f}x p95")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the final table, default settings")
    parser.add_argument("--memory", action="store_true", help="only the live loop's memory")
    parser.add_argument("--no-compare", action="store_true", help="skip the window, thread and beam comparison")
    parser.add_argument("--windows", default="3,5,10,15", help="mel windows (s) to compare")
    args = parser.parse_args()
    guide = find_guide(None)
    phrases = command_phrases(guide)
    folder = whisper_model_folder()
    started = time.time()
    items = load_items()
    if args.memory:
        print(live_memory(items, phrases))
        return
    tuning = [i for i in items if i.half == "tuning"]
    print(f"{len(items)} recordings ({len(tuning)} tuning), {sum(len(i.utterances) for i in items)} utterances "
          f"found by the endpointer; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    settings = WhisperSettings()
    if not args.quick and not args.no_compare:
        settings = compare(settings, folder, phrases, tuning, guide, [float(w) for w in args.windows.split(",")])
    if not args.quick:
        settings = tune(settings, folder, phrases, tuning, guide)
    recognizer = CachedWhisper(folder, phrases, settings)
    before = memory_mb()
    outcomes = run(recognizer, items, guide)
    sphinx = run(PocketSphinxRecognizer(phrases), items, guide)
    print_final(f"final: {describe(settings)}", outcomes, sphinx)
    print("\ncalibration on the test half (fitted on the tuning half):")
    print("\n".join(reliability([o for o in outcomes if o.item.half == "test"], settings.calibration)))
    print(f"\npeak memory of this process: {memory_mb():.0f} MB ({before:.0f} MB before the final run); "
          f"{time.time() - started:.0f} s in all")


def compare(settings: WhisperSettings, folder: Path, phrases: list[str], tuning: list[Item], guide: Any,
            windows: list[float]) -> WhisperSettings:
    """Windows, then threads and beam at the chosen window, on the tuning half with default thresholds;
    the window kept is the best objective less 0.1 per 100 ms of median time (a conversation waits)."""
    print("\nwindow, threads and beam on the tuning half (default thresholds): accuracy and time per command")
    ranked = []
    for window in windows:
        variant = replace(settings, window_s=window)
        med, counts = _try(variant, folder, phrases, tuning, guide)
        ranked.append((objective(counts) - med / 1000, variant))
    settings = max(ranked, key=lambda r: r[0])[1]
    for variant in (replace(settings, cpu_threads=1), replace(settings, beam_size=1, num_hypotheses=1)):
        _try(variant, folder, phrases, tuning, guide)
    return settings


def _try(variant: WhisperSettings, folder: Path, phrases: list[str], tuning: list[Item], guide: Any
         ) -> tuple[float, dict[str, tuple[int, int]]]:
    outcomes = run(CachedWhisper(folder, phrases, variant), tuning, guide)
    (med, p95), counts = timing(outcomes), table(outcomes)
    cpu = float(np.median([c for o in outcomes if o.item.group in COMMANDS for c in o.cpu]) * 1000)
    print(f"  window {variant.window_s:4.0f} s, {variant.cpu_threads} threads, beam {variant.beam_size}: median "
          f"{med:4.0f} ms (CPU {cpu:4.0f} ms), p95 {p95:4.0f} ms  {cells(counts)}", flush=True)
    return med, counts


def live_memory(items: list[Item], phrases: list[str]) -> str:
    """Peak resident memory of the live loop's two processes: this one (guide, matcher, audio) and the
    recognizer child running Whisper, after decoding some commands."""
    from voicecoach.speech.worker import RecognizerProcess

    def peak_mb(pid: int | str) -> float:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024

    with RecognizerProcess(phrases, engine="whisper") as recognizer:
        for item in [i for i in items if i.group in COMMANDS][:20]:
            for samples in item.utterances:
                recognizer.recognize(samples)
        child = peak_mb(recognizer._process.pid)  # type: ignore[union-attr]
    parent = peak_mb("self")
    return f"live loop memory: recognizer child {child:.0f} MB + parent {parent:.0f} MB = {child + parent:.0f} MB"


def describe(settings: WhisperSettings) -> str:
    return (f"window {settings.window_s:.0f} s, {settings.cpu_threads} threads, beam {settings.beam_size}, "
            f"no_speech_max {settings.no_speech_max}, silence_logprob {settings.silence_logprob}, logprob_min "
            f"{settings.logprob_min}, near_margin {settings.near_margin}, calibration {settings.calibration}")


def tune(settings: WhisperSettings, folder: Path, phrases: list[str], tuning: list[Item], guide: Any) -> WhisperSettings:
    """Thresholds by grid search on the tuning half (cached decoder outputs), then the calibration."""
    recognizer = CachedWhisper(folder, phrases, settings)
    run(recognizer, tuning, guide)  # fills the cache
    grid = itertools.product((0.5, 0.7, 0.9), (-0.3, -0.6, -1.0), (-1.0, -1.3, -1.6), (0.3, 0.6, 1.0, 1.5))
    scored = []
    for no_speech_max, silence_logprob, logprob_min, near_margin in grid:
        recognizer.settings = replace(settings, no_speech_max=no_speech_max, silence_logprob=silence_logprob,
                                      logprob_min=logprob_min, near_margin=near_margin)
        counts = table(run(recognizer, tuning, guide, min_confidence=0.0))
        scored.append((objective(counts), recognizer.settings, counts))
    scored.sort(key=lambda s: -s[0])
    print("\nbest thresholds on the tuning half (no confidence cut):")
    for score, chosen, counts in scored[:5]:
        print(f"  {score:.3f}  {describe(chosen)}\n         {cells(counts)}")
    best = scored[0][1]
    recognizer.settings = best
    calibration = fit_calibration(run(recognizer, tuning, guide, min_confidence=0.0))
    best = replace(best, calibration=calibration)
    recognizer.settings = best
    counts = table(run(recognizer, tuning, guide))
    print(f"calibration fitted on the tuning half: {calibration}; with confidence >= {DEFAULT_MIN_CONFIDENCE}: "
          f"{cells(counts)}")
    return best


if __name__ == "__main__":
    main()
