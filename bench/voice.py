"""Voice benchmark: Piper against espeak-ng. Prints tables.

    .venv/bin/python bench/voice.py              # first audio, pace accuracy, memory
    .venv/bin/python bench/voice.py --wer        # also words misheard by Whisper tiny.en (both voices)
    .venv/bin/python bench/voice.py --calibrate  # measure Piper's length_scale -> wpm curve (voices.yaml rows)

First audio: the time to synthesise the first sentence of a reply (what a speaker waits for before the
device gets sound), over the first sentences of every step and faq answer of the bundled guide, each voice
already loaded and warmed up. Then in a session: a scripted conversation over the bundled guide through the
real coach, each reply's first audio with Piper cold and with speech made ahead (voice/prepared.py: the
likely next reply's first sentence made while the listener listens, here while the reply would play). Pace: words heard per minute (after normalisation, sentence clips back to
back as SoundDeviceSpeaker plays them) against the rate asked, on guide sentences not used to calibrate.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voicecoach.guide.library import find_guide  # noqa: E402
from voicecoach.sentences import split_sentences  # noqa: E402
from voicecoach.voice.normalize import spoken_form  # noqa: E402
from voicecoach.voice.pace import count_words, words_per_minute  # noqa: E402
from voicecoach.voice.script import build_script  # noqa: E402

CALIBRATION_SCALES = (0.45, 0.55, 0.7, 0.85, 1.0, 1.2, 1.45, 1.75, 2.1, 2.6, 3.2)
PACE_RATES = (120, 150, 170, 200, 240, 270, 300)


def guide_sentences() -> list[str]:
    """Every sentence the export script reads, in order."""
    return [s for item in build_script(find_guide(None)) for p in item.paragraphs for s in split_sentences(p)]


def calibration_sentences() -> list[str]:
    """The first 30 sentences of step bodies 1-5 (the pace test set is from steps 6-10)."""
    guide = find_guide(None)
    return [s for step in guide.steps[:5] for p in step.body for s in split_sentences(p)][:30]


def pace_sentences() -> list[str]:
    guide = find_guide(None)
    return [s for step in guide.steps[5:] for p in step.body for s in split_sentences(p)][:20]


def reply_first_sentences() -> list[str]:
    guide = find_guide(None)
    firsts = [f"Step {s.number} of {len(guide.steps)}: {s.title}." for s in guide.steps]
    firsts += [split_sentences(f.answer)[0] for s in guide.steps for f in s.faq if f.answer.strip()]
    return firsts


def heard_pace(synthesizer, sentences: list[str], rate: int | None = None, length_scale: float | None = None) -> float:
    """Words per minute of `sentences` played back to back."""
    seconds = 0.0
    for sentence in sentences:
        if length_scale is not None:
            clip = _at_length_scale(synthesizer, sentence, length_scale)
        else:
            clip = synthesizer.synthesize(sentence, rate=rate)
        seconds += clip.duration
    words = sum(count_words(spoken_form(s)) for s in sentences)
    return words_per_minute(words, seconds)


def _at_length_scale(synthesizer, sentence: str, length_scale: float):
    original = synthesizer.length_scale
    synthesizer.length_scale = lambda rate, density=None: length_scale  # type: ignore[method-assign]
    try:
        return synthesizer.synthesize(sentence)
    finally:
        synthesizer.length_scale = original  # type: ignore[method-assign]


def calibrate() -> None:
    from voicecoach.voice.piper_engine import PiperSynthesizer

    synthesizer = PiperSynthesizer()
    sentences = calibration_sentences()
    from voicecoach.voice.piper_engine import _NOT_PHONEMES

    words = sum(count_words(spoken_form(s)) for s in sentences)
    phonemes = sum(1 for s in sentences for piece in synthesizer._voice.phonemize(spoken_form(s))
                   for p in piece if p not in _NOT_PHONEMES)
    print(f"# {len(sentences)} sentences, {words} words")
    print(f"    phonemes_per_word: {phonemes / words:.2f}")
    print("    pace:")
    for scale in CALIBRATION_SCALES:
        print(f"      - [{scale}, {heard_pace(synthesizer, sentences, length_scale=scale):.0f}]", flush=True)


def _status_mb(field: str) -> float:
    """A memory field of this process (VmRSS, VmHWM) in MB, NaN where /proc has none."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    return _status_mb("VmHWM")


def first_audio(synthesizer, sentences: list[str]) -> list[float]:
    """Seconds until each sentence's first audio is ready: its first clause when the synthesizer streams
    long sentences clause by clause (as SoundDeviceSpeaker plays a reply's first sentence), else all of it."""
    times = []
    for sentence in sentences:
        began = time.perf_counter()
        parts = getattr(synthesizer, "synthesize_parts", None)
        if parts is not None:
            next(iter(parts(sentence)))
        else:
            synthesizer.synthesize(sentence)
        times.append(time.perf_counter() - began)
    return times


# A listener's turns: mostly reading on, with the other things people ask for between.
SESSION_SCRIPT = ("next", "next", "repeat", "more", "next", "summary", "next", "previous", "next", "next", "example",
                  "more", "next", "where_am_i", "next", "repeat", "next", "next", "more", "next")


def session_first_audio(synthesizer, prepared: bool, passes: int = 2) -> list[float]:
    """First audio of each reply in SESSION_SCRIPT (`passes` times), through the real coach; with `prepared`,
    each reply's playing time (its audio's length, at most 3 s) is given to making the next one ahead."""
    from voicecoach.coach.machine import Coach
    from voicecoach.understanding.intents import Intent
    from voicecoach.voice.prepared import PreparedSpeech

    speech = PreparedSpeech(synthesizer) if prepared else synthesizer
    times = []
    for _ in range(passes):
        coach = Coach(find_guide(None))
        reply = coach.start()
        for name in SESSION_SCRIPT:
            if prepared:
                speech.prepare(coach.likely_openings())
                time.sleep(min(3.0, 0.06 * len(reply.text.split()) * 4))  # the listener hears the reply
            reply = coach.handle(Intent(name, {}))
            began = time.perf_counter()
            parts = getattr(speech, "synthesize_parts", None)
            next(iter(parts(reply.sentences[0], reply.rate))) if parts else speech.synthesize(reply.sentences[0], reply.rate)
            times.append(time.perf_counter() - began)
    return times


def print_times(label: str, times: list[float], width: int) -> list[float]:
    """One table row: the label, then median, p95 and max of `times` (seconds) in ms; returns `times`."""
    print(f"{label:<{width}} {statistics.median(times) * 1000:7.0f} {p95(times) * 1000:7.0f} {max(times) * 1000:7.0f}")
    return times


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def word_error_rate(reference: list[str], heard: list[str]) -> tuple[int, int]:
    """(edits, reference words) by word-level Levenshtein distance."""
    edits = total = 0
    for ref, hyp in zip(reference, heard):
        r, h = _words(ref), _words(hyp)
        row = list(range(len(h) + 1))
        for i, rw in enumerate(r, 1):
            prev, row[0] = row[0], i
            for j, hw in enumerate(h, 1):
                prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (rw != hw))
        edits += row[len(h)]
        total += len(r)
    return edits, total


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", spoken_form(text).lower().replace("-", " "))


def transcribe_all(synthesizer, sentences: list[str]) -> list[str]:
    from faster_whisper import WhisperModel

    from voicecoach.assets.store import find_asset

    folder = find_asset("faster-whisper-tiny.en")
    if folder is None:
        raise SystemExit("faster-whisper-tiny.en is not installed (scripts/setup installs it)")
    model = _whisper_model(str(folder))
    heard = []
    for sentence in sentences:
        clip = synthesizer.synthesize(sentence).resampled(16000)
        segments, _ = model.transcribe(clip.samples.astype(np.float32) / 32768.0, language="en", beam_size=5,
                                       condition_on_previous_text=False)
        heard.append(" ".join(s.text.strip() for s in segments))
    return heard


_WHISPER: dict[str, object] = {}


def _whisper_model(folder: str):
    from faster_whisper import WhisperModel

    if folder not in _WHISPER:
        _WHISPER[folder] = WhisperModel(folder, device="cpu", compute_type="int8", cpu_threads=2)
    return _WHISPER[folder]


def wer_sentences(count: int) -> list[str]:
    """`count` guide sentences of 6 to 30 words spread over the whole script."""
    sentences = [s for s in guide_sentences() if 6 <= len(s.split()) <= 30]
    step = max(1, len(sentences) // count)
    return sentences[::step][:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calibrate", action="store_true", help="measure the length_scale -> wpm curve")
    parser.add_argument("--wer", action="store_true", help="also transcribe with Whisper tiny.en")
    parser.add_argument("--wer-sentences", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=1, help="passes over the first-audio sentences")
    parser.add_argument("--first-audio-only", action="store_true", help="stop after the first-audio table")
    args = parser.parse_args()
    if args.calibrate:
        calibrate()
        return 0
    from voicecoach.voice.piper_engine import PiperSynthesizer
    from voicecoach.voice.synthesizer import Synthesizer, VoiceSettings

    base = rss_mb()
    began = time.perf_counter()
    piper = PiperSynthesizer()
    load_s = time.perf_counter() - began
    loaded = rss_mb()
    espeak = Synthesizer(VoiceSettings())
    espeak.synthesize("Hello.")
    firsts = reply_first_sentences() * args.repeats
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; Piper loaded in {load_s:.2f} s, "
          f"{piper.threads} onnxruntime thread(s)")
    print(f"\nfirst audio of a reply ({len(firsts)} first sentences, ms)")
    print(f"{'voice':<10} {'median':>7} {'p95':>7} {'max':>7}")
    results = {}
    for name, synth in (("piper", piper), ("espeak-ng", espeak)):
        results[name] = print_times(name, first_audio(synth, firsts), 10)
    print(f"ratio piper/espeak median: {statistics.median(results['piper']) / statistics.median(results['espeak-ng']):.1f}")
    print(f"\nfirst audio in a session ({len(SESSION_SCRIPT)} turns twice through the real coach, ms)")
    print(f"{'piper':<22} {'median':>7} {'p95':>7} {'max':>7}")
    session = {}
    for label, prepared in (("cold", False), ("speech made ahead", True)):
        session[label] = print_times(label, session_first_audio(piper, prepared), 22)
    print(f"ratio made-ahead/cold median: {statistics.median(session['speech made ahead']) / statistics.median(session['cold']):.2f}")
    if args.first_audio_only:
        return 0

    sentences = pace_sentences()
    print(f"\npace heard, Piper ({len(sentences)} guide sentences from steps 6-10, "
          f"{sum(count_words(spoken_form(s)) for s in sentences)} words)")
    print(f"{'asked':>6} {'heard':>7} {'error':>7}")
    errors = []
    for rate in PACE_RATES:
        heard = heard_pace(piper, sentences, rate=rate)
        errors.append(abs(heard - rate) / rate)
        print(f"{rate:6d} {heard:7.1f} {100 * (heard - rate) / rate:+6.1f}%")
    print(f"worst pace error {100 * max(errors):.1f}%, mean {100 * statistics.mean(errors):.1f}%")
    print(f"\nmemory: {base:.0f} MB before Piper, {loaded:.0f} MB loaded, peak {peak_rss_mb():.0f} MB "
          f"(the process, with espeak-ng)")

    if args.wer:
        chosen = wer_sentences(args.wer_sentences)
        words = sum(len(_words(s)) for s in chosen)
        print(f"\nwords misheard by Whisper tiny.en ({len(chosen)} guide sentences, {words} words)")
        for name, synth in (("piper", piper), ("espeak-ng", espeak)):
            heard = transcribe_all(synth, chosen)
            edits, total = word_error_rate(chosen, heard)
            print(f"{name:<10} {100 * edits / total:5.1f}% ({edits}/{total})")
            for ref, hyp in zip(chosen, heard):
                if _words(ref) != _words(hyp):
                    print(f"    {ref!r}\n      -> {hyp!r}")
        print(f"\nmemory with Piper, espeak-ng and Whisper tiny.en loaded: {rss_mb():.0f} MB, peak {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
