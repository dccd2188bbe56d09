"""Speech input benchmark: real voices, synthetic commands in noise, false accepts, speed, idle CPU.

    .venv/bin/python bench/speech.py                 # every table (a few minutes on 2 cores)
    .venv/bin/python bench/speech.py real --tune     # sweep rejection settings on the training speakers

Real voices are split by speaker (the id before `_nohash_`, hashed): settings are tuned on the
training half and reported on the held-out half, so the figures are about new voices.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
import zlib
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from voicecoach.audio.endpoint import EndpointSettings, VadEndpointer, find_utterances  # noqa: E402
from voicecoach.audio.frames import SAMPLE_RATE, split_frames  # noqa: E402
from voicecoach.audio.synth import ESPEAK_VOICES, FLITE_VOICES, cached_synthesis  # noqa: E402
from voicecoach.audio.wavfile import read_wav  # noqa: E402
from voicecoach.guide.library import find_guide  # noqa: E402
from voicecoach.speech.pipeline import DEFAULT_MIN_CONFIDENCE, hear, summarize  # noqa: E402
from voicecoach.speech.sphinx import PocketSphinxRecognizer, SphinxSettings  # noqa: E402
from voicecoach.understanding.catalog import command_phrases  # noqa: E402

SHARED = Path(os.environ.get("VOICECOACH_SHARED", "/work/shared"))
SPEECH_COMMANDS = SHARED / "peer-data" / "speech-commands"
COFFEE = SHARED / "peer-data" / "picovoice-speech-to-intent"
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
EXPECTED = {"yes": {"yes"}, "no": {"no"}, "stop": {"pause", "stop"}, "forward": {"next"},
            "backward": {"previous"}, "off": {"none", "pause", "stop"}, "right": {"none", "yes"}}
COMMAND_WORDS = ("yes", "no", "stop", "forward", "backward")
SYNTHETIC_COMMANDS = {"next step": "next", "go back": "previous", "repeat that": "repeat", "pause": "pause",
                      "stop": "stop", "yes": "yes", "no": "no", "help": "help", "go to step three": "goto_step",
                      "start over": "start_over", "slower": "slower", "give me an example": "example"}

_WORKER: dict = {}


def speaker_half(path: Path) -> str:
    speaker = path.name.split("_nohash_")[0]
    return "train" if zlib.crc32(speaker.encode()) % 2 == 0 else "test"


def real_voice_files() -> list[tuple[str, Path]]:
    items = []
    for folder in sorted(p for p in SPEECH_COMMANDS.iterdir() if p.is_dir()):
        items += [(folder.name, f) for f in sorted(folder.glob("*.wav"))]
    return items


def _init(settings: SphinxSettings, endpoint: EndpointSettings, min_conf: float) -> None:
    guide = find_guide(None)
    _WORKER.update(guide=guide, endpoint=endpoint, min_conf=min_conf,
                   recognizer=PocketSphinxRecognizer(command_phrases(guide), settings))


def _run_file(path: Path) -> tuple[str, str, float, float, float]:
    """(intent, text, confidence, cpu seconds, audio seconds) through the whole input path."""
    samples = read_wav(path)
    started = time.process_time()
    heard = [hear(u, _WORKER["recognizer"], _WORKER["guide"], None, _WORKER["min_conf"])
             for u in find_utterances(split_frames(samples), _WORKER["endpoint"])]
    result = summarize(str(path), heard)
    return result.intent, result.text, result.confidence, time.process_time() - started, len(samples) / SAMPLE_RATE


def run_files(paths: list[Path], settings: SphinxSettings, endpoint: EndpointSettings, min_conf: float) -> list:
    with Pool(2, initializer=_init, initargs=(settings, endpoint, min_conf)) as pool:
        return pool.map(_run_file, paths, chunksize=4)


def real_voice_table(items: list[tuple[str, Path]], results: list) -> dict[str, tuple[int, int]]:
    """label → (hits, total): accuracy for command words, firing counts for the rest."""
    table: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for (label, _), (intent, *_rest) in zip(items, results):
        if label in EXPECTED:
            key, hit = label, intent in EXPECTED[label]
        else:
            key, hit = ("noise clips" if label == "_silence_" else "coffee orders" if label == "coffee"
                        else "other words"), intent != "none"
        table[key][0] += hit
        table[key][1] += 1
    return {k: (v[0], v[1]) for k, v in table.items()}


def print_real(title: str, table: dict[str, tuple[int, int]]) -> None:
    print(f"\n{title}")
    print(f"  {'clips':<14} {'n':>4}  {'result':>8}")
    for key in (*COMMAND_WORDS, "off", "right", "other words", "noise clips", "coffee orders"):
        if key in table:
            hits, total = table[key]
            kind = "fired" if key in ("other words", "noise clips", "coffee orders") else "right"
            print(f"  {key:<14} {total:>4}  {100 * hits / total:6.1f}% {kind}")


def section_real(args: argparse.Namespace) -> None:
    items = real_voice_files() + [("coffee", p) for p in sorted((COFFEE / "clean").glob("*.wav"))]
    settings, endpoint = SphinxSettings(), EndpointSettings()
    if args.tune:
        train = [(lab, p) for lab, p in items if lab == "coffee" or speaker_half(p) == "train"]
        train = [(lab, p) for lab, p in train if lab != "coffee"]
        print("tuning on training speakers: extra_word_log10 x background_log10 x min_confidence")
        for extra, background in ((-1.0, -1.1), (-1.0, -0.9), (-1.0, -0.7)):
            tuned = replace(settings, background_log10=background, extra_word_log10=extra)
            results = run_files([p for _, p in train], tuned, endpoint, 0.0)
            print(f" extra word {extra:+.1f}")
            for min_conf in (0.1, 0.15, 0.2, 0.25):
                filtered = [(i if c >= min_conf else "none", t, c, a, b) for i, t, c, a, b in results]
                table = real_voice_table(train, filtered)
                cells = "  ".join(f"{k}:{100 * h / n:.0f}" for k, (h, n) in sorted(table.items()))
                print(f"  bg {background:+.1f} conf>={min_conf:.2f}  {cells}", flush=True)
        return
    results = run_files([p for _, p in items], settings, endpoint, args.min_confidence)
    for half in ("train", "test"):
        chosen = [(it, r) for it, r in zip(items, results) if it[0] == "coffee" or speaker_half(it[1]) == half]
        print_real(f"real voices, {half} speakers{' (held out)' if half == 'test' else ''}",
                   real_voice_table([c[0] for c in chosen], [c[1] for c in chosen]))
    calibration(items, results)
    cpu = sum(r[3] for r in results)
    audio = sum(r[4] for r in results)
    print(f"\nreal-time factor (endpointing + recognizer + matcher): {cpu / audio:.3f}")


def calibration(items: list, results: list) -> None:
    """Among accepted commands, how often the intent was right, per confidence band."""
    bands = collections.defaultdict(lambda: [0, 0])
    for (label, _), (intent, _t, conf, *_r) in zip(items, results):
        if intent == "none":
            continue
        right = label in EXPECTED and intent in EXPECTED[label] and label not in ("off", "right")
        band = min(int(conf * 5), 4)
        bands[band][0] += right
        bands[band][1] += 1
    print("\nconfidence calibration (accepted commands on real voices)")
    for band in sorted(bands):
        right, total = bands[band]
        print(f"  {band / 5:.1f}-{(band + 1) / 5:.1f}: {total:4d} accepted, {100 * right / total:5.1f}% right")


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    speech_f = speech.astype(np.float64)
    start = rng.integers(0, max(1, len(noise) - len(speech_f)))
    piece = noise[start:start + len(speech_f)].astype(np.float64)
    if len(piece) < len(speech_f):
        piece = np.resize(piece, len(speech_f))
    voiced = speech_f[np.abs(speech_f) > 0.05 * np.abs(speech_f).max()]
    p_speech = np.mean(voiced ** 2)
    p_noise = np.mean(piece ** 2) or 1.0
    out = speech_f + piece * np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10)))
    return np.clip(out, -32768, 32767).astype(np.int16)


def section_synthetic(args: argparse.Namespace) -> None:
    from voicecoach.audio.wavfile import write_wav
    cache = Path(tempfile.gettempdir()) / "voicecoach-bench-synth"
    voices = ESPEAK_VOICES + FLITE_VOICES
    rng = np.random.default_rng(7)
    clean = {(text, voice): read_wav(cached_synthesis(text, cache, voice)) for text in SYNTHETIC_COMMANDS
             for voice in voices}
    babble_text = "the weather was fine and everyone went down to the river to talk about the harvest"
    babble = sum(np.resize(read_wav(cached_synthesis(babble_text, cache, v)), 16000 * 6).astype(np.int32)
                 for v in voices[:4])
    babble = np.clip(babble, -32768, 32767).astype(np.int16)
    white = rng.normal(0, 3000, 16000 * 6).astype(np.int16)
    work = Path(tempfile.mkdtemp(prefix="voicecoach-bench-"))
    conditions: dict[str, list[tuple[str, Path]]] = collections.defaultdict(list)
    pad = np.zeros(8000, np.int16)
    for (text, voice), samples in clean.items():
        padded = np.concatenate([pad, samples, pad])
        variants = {"clean": padded}
        for snr in (20, 10, 5):
            variants[f"babble {snr} dB"] = mix(padded, babble, snr, rng)
            variants[f"white {snr} dB"] = mix(padded, white, snr, rng)
        for name, audio in variants.items():
            path = work / f"{len(conditions[name])}-{name.replace(' ', '_')}.wav"
            write_wav(path, audio)
            conditions[name].append((SYNTHETIC_COMMANDS[text], path))
    print(f"\nsynthetic commands: {len(SYNTHETIC_COMMANDS)} phrasings x {len(voices)} voices (espeak-ng, flite)")
    for name, cases in conditions.items():
        results = run_files([p for _, p in cases], SphinxSettings(), EndpointSettings(), args.min_confidence)
        right = sum(r[0] == want for (want, _), r in zip(cases, results))
        print(f"  {name:<14} {100 * right / len(cases):5.1f}% intent right ({len(cases)} utterances)")


def section_false_accepts(args: argparse.Namespace) -> None:
    """Commands fired per minute of speech not meant for the coach."""
    librivox = sorted(LIBRIVOX.glob("*.wav"))
    guide = find_guide(None)
    cache = Path(tempfile.gettempdir()) / "voicecoach-bench-synth"
    guide_text = [s.summary for s in guide.steps] + [b for s in guide.steps for b in s.body[:2]]
    tts = [cached_synthesis(t, cache, v) for t, v in zip(guide_text, (ESPEAK_VOICES + FLITE_VOICES) * 20)]
    print("\nfalse accepts on non-command speech")
    for name, paths in (("LibriVox read speech", librivox), ("guide text read by TTS", tts)):
        results = run_files(paths, SphinxSettings(), EndpointSettings(), args.min_confidence)
        fired = sum(r[0] != "none" for r in results)
        minutes = sum(r[4] for r in results) / 60
        print(f"  {name:<24} {fired:3d} fired in {minutes:5.1f} min = {fired / minutes:.2f} per minute")


def section_endpointing(args: argparse.Namespace) -> None:
    """Endpoint settings' effect on the real voice commands (yes/no/stop) and noise clips."""
    items = [(lab, p) for lab, p in real_voice_files() if lab in ("yes", "no", "stop", "_silence_", "up", "down")]
    print("\nendpointing settings (all speakers): yes/no/stop right, up/down and noise firing")
    for endpoint in (EndpointSettings(), EndpointSettings(pre_roll_ms=150), EndpointSettings(hangover_ms=300),
                     EndpointSettings(aggressiveness=3), EndpointSettings(aggressiveness=1)):
        results = run_files([p for _, p in items], SphinxSettings(), endpoint, args.min_confidence)
        table = real_voice_table(items, results)
        cells = "  ".join(f"{k}:{100 * h / n:.0f}%" for k, (h, n) in sorted(table.items()))
        print(f"  pre-roll {endpoint.pre_roll_ms} ms, hangover {endpoint.hangover_ms} ms, vad "
              f"{endpoint.aggressiveness}: {cells}")


def section_idle(args: argparse.Namespace) -> None:
    """CPU seconds per second while listening to room noise (endpointer only runs; nothing to decode)."""
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 60, SAMPLE_RATE * 60).astype(np.int16)
    endpointer = VadEndpointer()
    started = time.process_time()
    for frame in split_frames(noise):
        endpointer.process(frame)
    cpu = time.process_time() - started
    print(f"\nidle listening: {cpu / 60:.4f} CPU s per second of audio (VAD on 60 s of quiet room noise)")


SECTIONS = {"real": section_real, "synthetic": section_synthetic, "false-accepts": section_false_accepts,
            "endpointing": section_endpointing, "idle": section_idle}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sections", nargs="*", choices=[*SECTIONS, []], default=[])
    parser.add_argument("--tune", action="store_true", help="sweep settings on training speakers (real)")
    parser.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE)
    args = parser.parse_args()
    for name in args.sections or SECTIONS:
        SECTIONS[name](args)


if __name__ == "__main__":
    main()
