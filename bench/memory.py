"""Memory of the live loop's parent process, stage by stage, with each allocator and Piper session option on
and off. Prints tables.

Each configuration runs in its own process (glibc's malloc settings only act before threads exist), built as
`voicecoach run` builds it: Piper behind PreparedSpeech, the meaning layers built on their background thread
with the word rules on theirs, the echo canceller fed frames from a callback-like thread; then understandings
on the main thread, and N minutes of the guide spoken as the live speaker makes it (each reply on a new
"speak" thread, a long first sentence clause by clause on a "clauses" thread, the next reply's first sentence
made ahead on the prepare thread). No audio device is needed: the speech is synthesised, not played.
After each stage: RSS, PSS and USS (/proc/self/smaps_rollup), glibc arenas and threads; then Piper's first
audio and the parse time on fixed sets, so that a saving that slows replies shows.

    .venv/bin/python bench/memory.py [--minutes 10] [--configs baseline,applied,...] [--repeat 1]
    .venv/bin/python bench/memory.py --whisper     # also the Whisper child, with and without voicecoach.memory's settings
    .venv/bin/python bench/memory.py --whisper-only  # only the Whisper child
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from voicecoach.testing.process_memory import HEAP_MAX, Sample, kib_fields, sample  # noqa: E402

STAGES = ("python", "imports", "piper", "meaning layers", "echo canceller", "understandings")


@dataclass(frozen=True)
class Config:
    """One way of running the parent: glibc malloc settings (None: glibc's default) and Piper's session.
    `cpu_arena`: onnxruntime's own arena; `mem_pattern`: buffers planned from the previous run's shapes;
    `same_as_requested`: the arena grows by what is asked rather than doubling (needs the shared arena);
    `release_after_long`: malloc's free memory handed back after a long input (release_free_memory)."""

    name: str
    arena_max: int | None = None
    mmap_threshold: int | None = None
    trim_threshold: int | None = None
    cpu_arena: bool = True
    mem_pattern: bool = True
    same_as_requested: bool = False
    release_after_long: bool = False


def _applied() -> Config:
    """What the code does now: voicecoach.memory's defaults and Piper's session (no shared arena, no malloc_trim)."""
    from voicecoach.memory import DEFAULT_SETTINGS as malloc
    from voicecoach.voice.piper_engine import CPU_MEM_ARENA, MEM_PATTERN

    return Config("applied", malloc.arena_max, malloc.mmap_threshold, malloc.trim_threshold, CPU_MEM_ARENA,
                  MEM_PATTERN)


MMAP = {"mmap_threshold": 256 * 1024, "trim_threshold": 1024 * 1024}
CONFIGS = {c.name: c for c in (
    Config("baseline"),  # glibc's defaults and Piper's session as before issue 14's memory work
    Config("arena_max=2", arena_max=2),
    Config("mmap_threshold=256K", **MMAP),
    Config("malloc_trim after long", release_after_long=True),
    Config("piper no cpu arena", cpu_arena=False),
    Config("piper no mem pattern", mem_pattern=False),
    Config("piper kSameAsRequested", same_as_requested=True),
    Config("arena_max=2 + mmap", arena_max=2, **MMAP),
    Config("arena_max=2 + mmap + no cpu arena", arena_max=2, cpu_arena=False, **MMAP),
    Config("arena_max=2 + mmap + trim after long", arena_max=2, release_after_long=True, **MMAP),
    Config("arena_max=2 + mmap + no mem pattern", arena_max=2, mem_pattern=False, **MMAP),
    _applied(),
)}


def where_it_goes(pid: int | str = "self") -> dict[str, float]:
    """RSS in MiB by kind of mapping: the main heap, glibc arenas, other anonymous memory (onnxruntime's and
    numpy's large blocks, thread stacks), the model files and the shared libraries."""
    kinds: dict[str, float] = {}
    current = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if "-" in head[0] and ":" not in head[0]:
            start = int(head[0].split("-")[0], 16)
            name = head[5] if len(head) > 5 else ""
            if name == "[heap]":
                current = "main heap (brk)"
            elif name.endswith((".onnx", ".bin", ".npy", ".safetensors")):
                current = "model files"
            elif ".so" in name:
                current = "shared libraries"
            elif name.startswith("/"):
                current = "other files"
            elif not name and start % HEAP_MAX == 0:
                current = "glibc arenas"
            elif not name:
                current = "other anonymous (mmap)"
            else:
                current = name
        elif head[0] == "Rss:" and current is not None:
            kinds[current] = kinds.get(current, 0.0) + int(head[1]) / 1024
    return dict(sorted(kinds.items(), key=lambda item: -item[1]))


# -- the child: one configuration -----------------------------------------------------------------------


def utterances() -> list[str]:
    """What listeners say: commands, questions, asides to ignore and near-miss statements, 30 of each."""
    from bench.sets import cases

    texts: list[str] = []
    for name in ("commands-heldout", "questions-heldout", "commands-ignore", "safety-near-misses"):
        texts += [c["text"] for c in cases(name)][:30]
    return texts


def replies() -> list[list[str]]:
    """The guide as the coach reads it, one reply a paragraph, as its sentences."""
    from voicecoach.guide.library import find_guide
    from voicecoach.sentences import split_sentences
    from voicecoach.voice.script import build_script

    return [split_sentences(p) for item in build_script(find_guide(None)) for p in item.paragraphs if p.strip()]


def run_child(config: Config, minutes: float) -> dict:
    """Everything measured for `config` in this process, as a dict for the parent."""
    if config.arena_max or config.mmap_threshold or config.trim_threshold:
        from voicecoach.memory import AllocatorSettings, tune_allocator

        tune_allocator(AllocatorSettings(config.arena_max, config.mmap_threshold, config.trim_threshold))
    samples = [sample("python")]

    import numpy as np

    from voicecoach import live  # noqa: F401  (the live loop's imports)
    from voicecoach.audio.echo_canceller import choose_echo_canceller
    from voicecoach.guide.library import find_guide
    from voicecoach.speech.pipeline import understand
    from voicecoach.speech.recognizer import Transcript
    from voicecoach.understanding import semantic
    from voicecoach.understanding.warm import build_meaning_layers
    from voicecoach.voice.prepared import PreparedSpeech
    import sounddevice  # noqa: F401

    samples.append(sample("imports"))
    voice = PreparedSpeech(_piper(config))
    samples.append(sample("piper"))

    guide = find_guide(None)
    rules = threading.Thread(target=live._compile_word_rules, name="voicecoach-word-rules", daemon=True)
    rules.start()
    semantic.build_in_background(lambda: build_meaning_layers(guide)).join()
    rules.join()
    samples.append(sample("meaning layers"))

    canceller = _feed_canceller(choose_echo_canceller("auto"), seconds=20.0)
    samples.append(sample("echo canceller"))

    texts = utterances()
    parse_ms = []
    for text in texts:
        started = time.perf_counter()
        understand(Transcript(text, 1.0, True), guide)
        parse_ms.append((time.perf_counter() - started) * 1000)
    samples.append(sample("understandings"))

    first_ms = _first_audio(voice._inner)
    speech = _speak_for(voice, minutes, texts, guide)
    samples += speech["samples"]
    places = where_it_goes()
    voice.close()
    del canceller
    return {"config": asdict(config), "samples": [asdict(s) for s in samples], "parse_ms": parse_ms,
            "first_ms": first_ms, "speech_s": speech["seconds"], "compute_s": speech["compute_s"],
            "peak_rss": max(s.rss for s in samples), "where": places,
            "_np": np.__version__}


def _piper(config: Config):
    """Piper as the live loop loads it, its session holding memory as `config` says."""
    import onnxruntime

    from voicecoach.voice import piper_engine

    options = piper_engine.piper_session_options()
    options.enable_cpu_mem_arena = config.cpu_arena
    options.enable_mem_pattern = config.mem_pattern
    if config.same_as_requested and config.cpu_arena:
        _register_shared_arena(onnxruntime)
        options.add_session_config_entry("session.use_env_allocators", "1")
    synthesizer = piper_engine.PiperSynthesizer(session_options=options)
    if config.release_after_long:  # the PiperVoice's session, already the product's arena-shrinking wrapper
        synthesizer._voice.session = _ReleasingAfterLong(synthesizer._voice.session)
    return synthesizer


@lru_cache(maxsize=1)
def _register_shared_arena(onnxruntime) -> None:
    """onnxruntime's process-wide CPU arena, growing by what each run asks (kSameAsRequested)."""
    info = onnxruntime.OrtMemoryInfo("Cpu", onnxruntime.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0,
                                     onnxruntime.OrtMemType.DEFAULT)
    onnxruntime.create_and_register_allocator(info, onnxruntime.OrtArenaCfg({"arena_extend_strategy": 1}))


class _ReleasingAfterLong:
    """Piper's session, with malloc's free memory handed back after each long input (as it shrinks its arena)."""

    def __init__(self, session) -> None:
        self._session = session

    def run(self, output_names, input_feed, run_options=None):
        from voicecoach.voice.piper_engine import is_long_input

        outputs = self._session.run(output_names, input_feed, run_options)
        if is_long_input(input_feed):
            release_free_memory()
        return outputs

    def __getattr__(self, name: str):
        return getattr(self._session, name)


def release_free_memory() -> bool:
    """Hand memory that malloc holds free (in every arena) back to the system; True when some was. A no-op
    off glibc. It walks every arena: call it after a large burst of work, not on a hot path."""
    import ctypes

    from voicecoach.memory import _glibc

    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim.argtypes = (ctypes.c_size_t,)
    return bool(libc.malloc_trim(0))


def _feed_canceller(choice, seconds: float):
    """The canceller as the live loop runs it: frames arrive on a callback thread, the loop processes them."""
    if not choice.available:
        return None
    import queue

    import numpy as np

    canceller = choice.create()
    frames: queue.Queue = queue.Queue()
    rng = np.random.default_rng(1)

    def callback_thread() -> None:
        for _ in range(int(seconds * 100)):
            frames.put((rng.standard_normal(160) * 300).astype(np.int16))
        frames.put(None)

    threading.Thread(target=callback_thread, name="portaudio-like", daemon=True).start()
    far = (rng.standard_normal(160) * 300).astype(np.int16)
    while (frame := frames.get()) is not None:
        canceller.process(frame, far)
    return canceller


def _first_audio(synthesizer) -> list[float]:
    """Milliseconds to the first clip of each reply's first sentence (as the speaker waits for it), unprepared."""
    from voicecoach.guide.library import find_guide
    from voicecoach.sentences import split_sentences

    guide = find_guide(None)
    firsts = [f"Step {s.number} of {len(guide.steps)}: {s.title}." for s in guide.steps]
    firsts += [split_sentences(f.answer)[0] for s in guide.steps for f in s.faq if f.answer.strip()][:20]
    times = []
    for sentence in firsts:
        started = time.perf_counter()
        next(iter(synthesizer.synthesize_parts(sentence)))
        times.append((time.perf_counter() - started) * 1000)
    return times


def _speak_for(voice, minutes: float, texts: list[str], guide) -> dict:
    """The guide spoken (synthesised) reply after reply until `minutes` of speech, as the live speaker makes it,
    with an understanding between replies; a sample after each minute of speech."""
    from voicecoach.speech.pipeline import understand
    from voicecoach.speech.recognizer import Transcript

    script = replies()
    spoken = [0.0]
    samples: list[Sample] = []
    next_minute = 1
    started = time.perf_counter()
    index = 0
    while spoken[0] < minutes * 60:
        sentences = script[index % len(script)]
        following = script[(index + 1) % len(script)]
        thread = threading.Thread(target=_speak_reply, args=(voice, sentences, spoken), name="voicecoach-speak")
        thread.start()
        thread.join()
        voice.prepare([(following[0], None)])  # made ahead while this reply plays
        understand(Transcript(texts[index % len(texts)], 1.0, True), guide)
        index += 1
        _wait_until_made(voice, following[0])
        while spoken[0] >= next_minute * 60:
            samples.append(sample(f"{next_minute} min of speech"))
            next_minute += 1
    return {"samples": samples, "seconds": spoken[0], "compute_s": time.perf_counter() - started}


def _wait_until_made(voice, sentence: str, timeout: float = 10.0) -> None:
    """Until the prepare thread has made `sentence`: samples are then taken between replies, not mid-synthesis."""
    deadline = time.monotonic() + timeout
    while not voice.is_made(sentence) and time.monotonic() < deadline:
        time.sleep(0.01)


def _speak_reply(voice, sentences: list[str], spoken: list[float]) -> None:
    """One reply as SoundDeviceSpeaker._render makes it: the first sentence clause by clause (the rest of its
    clauses on a "clauses" thread), the others whole."""
    parts = iter(voice.synthesize_parts(sentences[0]))
    first = next(parts)
    spoken[0] += len(first.samples) / first.sample_rate

    def extend() -> None:
        for clip in parts:
            spoken[0] += len(clip.samples) / clip.sample_rate

    clauses = threading.Thread(target=extend, name="voicecoach-clauses")
    clauses.start()
    clauses.join()
    for sentence in sentences[1:]:
        clip = voice.synthesize(sentence)
        spoken[0] += len(clip.samples) / clip.sample_rate


# -- the Whisper child -------------------------------------------------------------------------------------


def whisper_child(env_arenas: str | None, clips: int) -> dict:
    """The recognizer process as the live loop starts it (RecognizerProcess), fed `clips` utterances; its
    memory read from /proc. `env_arenas`: "applied" gives it voicecoach.memory's settings through the environment."""
    import numpy as np

    from voicecoach.guide.library import find_guide
    from voicecoach.live import LiveOptions, open_recognizer

    if env_arenas is not None:  # "applied": what voicecoach.memory gives the child through the environment
        from voicecoach.memory import allocator_environment

        os.environ.update(allocator_environment())
    recognizer = open_recognizer(find_guide(None), LiveOptions(engine="whisper"), own_process=True)
    audio = _speech_clips()
    times = []
    pid = _child_pid(recognizer)  # the child has loaded the model when RecognizerProcess is built
    samples = [sample("model loaded", pid)] if pid else []
    for number in range(clips):
        started = time.perf_counter()
        recognizer.recognize(audio[number % len(audio)])
        times.append((time.perf_counter() - started) * 1000)
        if pid and number == 0:
            samples.append(sample("1 utterance", pid))
        if pid and (number + 1) % max(1, clips // 4) == 0:
            samples.append(sample(f"{number + 1} utterances", pid))
    recognizer.close()
    return {"samples": [asdict(s) for s in samples], "recognize_ms": times, "np": np.__version__}


def _child_pid(recognizer) -> int | None:
    process = getattr(recognizer, "_process", None)
    return int(process.pid) if process is not None and process.pid else None


def _speech_clips():
    """Spoken commands and read speech at 16 kHz (espeak-ng phrases; LibriVox clips when installed)."""
    import tempfile

    from voicecoach.audio.synth import cached_synthesis
    from voicecoach.audio.wavfile import read_wav

    cache = Path(tempfile.gettempdir()) / "voicecoach-bench-memory"
    cache.mkdir(exist_ok=True)
    phrases = ("next step", "go back", "repeat that", "what does vulnerability mean", "pause",
               "give me an example of listening", "go to step six", "I don't understand this part")
    clips = []
    for phrase in phrases:
        clips.append(read_wav(cached_synthesis(phrase, cache)))
    return clips


# -- the parent: run each configuration, print tables -----------------------------------------------------


def _run(args: list[str], poll_s: float = 0.1) -> dict:
    """A child's result, with the peak RSS and PSS of the whole run read from outside every `poll_s`."""
    process = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=REPO)
    peak_rss = peak_pss = 0.0
    while process.poll() is None:
        try:
            fields = kib_fields(f"/proc/{process.pid}/smaps_rollup")
            peak_rss, peak_pss = max(peak_rss, fields["Rss"] / 1024), max(peak_pss, fields["Pss"] / 1024)
        except (OSError, KeyError):
            pass
        time.sleep(poll_s)
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"bench child failed ({' '.join(args)}):\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss"], result["peak_pss"] = max(peak_rss, result.get("peak_rss", 0)), peak_pss
    return result


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else float("nan")


def print_tables(results: dict[str, list[dict]]) -> None:
    names = list(results)
    base = results[names[0]]
    stages = [s["stage"] for s in base[0]["samples"]]
    print("\n### Parent RSS / PSS (MiB) after each stage; median over repeats\n")
    print("| stage | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for stage in stages:
        row = []
        for name in names:
            rss = _median([_at(r, stage, "rss") for r in results[name]])
            pss = _median([_at(r, stage, "pss") for r in results[name]])
            row.append(f"{rss:.0f} / {pss:.0f}")
        print(f"| {stage} | " + " | ".join(row) + " |")
    rows = [("peak RSS (polled every 0.1 s)", lambda r: r["peak_rss"], "{:.0f}"),
            ("peak PSS", lambda r: r["peak_pss"], "{:.0f}"),
            ("USS at end", lambda r: r["samples"][-1]["uss"], "{:.0f}"),
            ("glibc arena heaps at end", lambda r: r["samples"][-1]["arenas"], "{:.0f}"),
            ("threads at end", lambda r: r["samples"][-1]["threads"], "{:.0f}"),
            ("growth 1st min → end (RSS MiB)", _growth, "{:+.0f}"),
            ("first audio median (ms)", lambda r: _median(r["first_ms"]), "{:.0f}"),
            ("first audio p95 (ms)", lambda r: _p95(r["first_ms"]), "{:.0f}"),
            ("parse median (ms)", lambda r: _median(r["parse_ms"]), "{:.1f}"),
            ("parse p95 (ms)", lambda r: _p95(r["parse_ms"]), "{:.1f}"),
            ("synthesis per minute of speech (s)", lambda r: r["compute_s"] / max(1e-9, r["speech_s"] / 60), "{:.2f}")]
    for label, get, fmt in rows:
        print(f"| {label} | " + " | ".join(fmt.format(_median([get(r) for r in results[n]])) for n in names) + " |")
    end = stages[-1]
    print(f"\n### Ratios to {names[0]}: at '{end}' (RSS, PSS), peak RSS, first audio and parse medians\n")
    print("| config | RSS | PSS | peak RSS | first audio | parse |")
    print("|---|---|---|---|---|---|")
    for name in names:
        def ratio(get) -> float:
            return _median([get(r) for r in results[name]]) / _median([get(r) for r in base])
        print(f"| {name} | {ratio(lambda r: _at(r, end, 'rss')):.2f} | {ratio(lambda r: _at(r, end, 'pss')):.2f} | "
              f"{ratio(lambda r: r['peak_rss']):.2f} | {ratio(lambda r: _median(r['first_ms'])):.2f} | {ratio(lambda r: _median(r['parse_ms'])):.2f} |")
    print("\n### Where the parent's RSS is at the end (MiB, first repeat)\n")
    kinds = sorted({k for n in names for k in results[n][0]["where"]}, key=lambda k: -base[0]["where"].get(k, 0))
    print("| mapping | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for kind in [k for k in kinds if max(results[n][0]["where"].get(k, 0) for n in names) >= 1]:
        print(f"| {kind} | " + " | ".join(f"{results[n][0]['where'].get(kind, 0):.0f}" for n in names) + " |")


def _at(result: dict, stage: str, key: str) -> float:
    return next(s[key] for s in result["samples"] if s["stage"] == stage)


def _growth(result: dict) -> float:
    minutes = [s for s in result["samples"] if s["stage"].endswith("min of speech")]
    return minutes[-1]["rss"] - minutes[0]["rss"] if len(minutes) > 1 else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="minutes of speech after the stages")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated, the first is the reference")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration, interleaved")
    parser.add_argument("--whisper", action="store_true", help="also the Whisper child process")
    parser.add_argument("--whisper-only", action="store_true", help="only the Whisper child process")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--whisper-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(CONFIGS[args.child], args.minutes)))
        return 0
    if args.whisper_child is not None:
        print(json.dumps(whisper_child(args.whisper_child or None, clips=40)))
        return 0
    if not args.whisper_only:
        names = [n.strip() for n in args.configs.split(",") if n.strip()]
        results: dict[str, list[dict]] = {n: [] for n in names}
        for repeat in range(args.repeat):
            for name in (names if repeat % 2 == 0 else names[::-1]):
                print(f"running {name} ({args.minutes:g} min of speech)…", file=sys.stderr, flush=True)
                results[name].append(_run(["--child", name, "--minutes", str(args.minutes)]))
        print_tables(results)
    if args.whisper or args.whisper_only:
        print("\n### Whisper child (MiB: RSS / PSS), 40 utterances\n")
        print("| stage | glibc default | voicecoach.memory settings (environment) |")
        print("|---|---|---|")
        default, limited = _run(["--whisper-child", ""]), _run(["--whisper-child", "applied"])
        for a, b in zip(default["samples"], limited["samples"]):
            print(f"| {a['stage']} | {a['rss']:.0f} / {a['pss']:.0f} ({a['arenas']} arenas) | "
                  f"{b['rss']:.0f} / {b['pss']:.0f} ({b['arenas']} arenas) |")
        print(f"| recognition median (ms) | {_median(default['recognize_ms']):.0f} | {_median(limited['recognize_ms']):.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
