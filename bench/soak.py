"""Soak: an hour of audio through `voicecoach run --input`, faster than real time.

The recording (built once and cached) is spoken commands with known intents (flite and espeak-ng voices,
about a third over real kitchen noise at 25-30 dB SNR), each followed by 1.5-2.5 s of silence, between
stretches of LibriVox read speech (some over kitchen noise) and kitchen noise alone; it opens with the
hardest utterances, so that the recognizer's buffers are full-sized after warm-up. The real CLI runs on
it (VAD → PocketSphinx → matcher → coach); its RSS is sampled every second and its output is checked:
every command's intent at the command's time, nothing fired by the read speech and the noise.

    .venv/bin/python bench/soak.py [--minutes 60] [--cache DIR] [--seed 1]
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.latency import proc_stats  # noqa: E402
from bench.speech import COFFEE, LIBRIVOX, mix  # noqa: E402
from voicecoach.audio.frames import SAMPLE_RATE  # noqa: E402
from voicecoach.audio.synth import cached_synthesis  # noqa: E402
from voicecoach.audio.wavfile import publish, read_wav  # noqa: E402
from voicecoach.guide.library import find_guide  # noqa: E402
from voicecoach.understanding.matcher import match_intent  # noqa: E402
from voicecoach.testing.live_coach import TURN  # noqa: E402

GUIDE = REPO / "content" / "relationship-ten-steps.yaml"
KITCHEN_NOISE = COFFEE / "kitchen-noise.wav"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "voicecoach-soak"
PLAN_VERSION = 7  # bump when the way the recording is made changes: cached recordings are then rebuilt
WINDOW_BEFORE_S = 0.1  # a command's turn may be reported from this long before the command starts...
WINDOW_AFTER_S = 1.4  # ...until this long after it ends (hangover and padding; the next sound is >= 1.5 s on)
WARM_UP_SHARE = 0.1  # RSS growth is measured from this share of the run to its end
AIM_RSS_GROWTH_PCT = 5.0


@dataclass(frozen=True)
class Command:
    """A phrasing, the intent (and step) `voicecoach parse` gives it, and the voices that say it reliably."""

    text: str
    intent: str
    voices: tuple[str, ...]
    step: int | None = None
    noise_ok: bool = True  # may be said over kitchen noise


def _voices(*names: str) -> tuple[str, ...]:
    return tuple(f"flite:{n}" if n in ("slt", "rms", "awb", "kal16") else f"espeak-ng:{n}" for n in names)


# Voices kept per phrasing: recognized alone, clean and over kitchen noise at 30, 25 and 20 dB SNR (three
# noise draws at 25 and 20), in a sweep of 45 phrasings x 8 voices on 2026-11-24. In the soak, noise under
# a command is at 25-30 dB: a margin. "go back" and "pause" never passed at 20 dB; they keep the voices
# that passed at 25 dB. Left out as too weak: "back up", "tell me more", "help" ("what can i say" stays).
# "go back" is only said in quiet: over noise it was heard as "goodbye" (which ends the session), "go
# ahead" and "go faster" in the first 60-minute soaks.
_C = Command
NEXT = (_C("next step", "next", _voices("slt", "kal16")), _C("next", "next", _voices("slt")),
        _C("move on", "next", _voices("en-us", "en-gb-x-rp+m3", "kal16")),
        _C("go forward", "next", _voices("en-us", "rms", "awb", "kal16")))
PREVIOUS = (_C("go back", "previous", _voices("slt", "awb", "kal16"), noise_ok=False),
            _C("previous step", "previous", _voices("en-gb", "en-gb-x-rp+m3", "slt", "rms", "awb", "kal16")))
GOTO = (_C("go to step two", "goto_step", _voices("rms", "kal16"), 2),
        _C("go to step three", "goto_step", _voices("en-gb", "rms", "awb", "kal16"), 3),
        _C("take me to step four", "goto_step", _voices("en-us", "slt", "awb", "kal16"), 4),
        _C("step five", "goto_step", _voices("rms", "kal16"), 5),
        _C("go to step six", "goto_step", _voices("kal16"), 6),
        _C("go to step seven", "goto_step", _voices("slt", "rms", "kal16"), 7),
        _C("go to step nine", "goto_step", _voices("rms", "awb", "kal16"), 9))
PAUSE = (_C("pause", "pause", _voices("kal16")), _C("hold on", "pause", _voices("kal16")),
         _C("wait a moment", "pause", _voices("en-us", "en-us+f3", "rms", "kal16")))
RESUME = (_C("resume", "resume", _voices("en-us", "slt", "rms", "awb", "kal16")),
          _C("resume reading", "resume", _voices("en-us", "en-us+f3", "en-gb", "awb", "kal16")),
          _C("keep reading", "resume", _voices("en-us", "en-us+f3", "en-gb", "en-gb-x-rp+m3")))
SINGLES = (
    (_C("where am i", "where_am_i", _voices("en-gb-x-rp+m3", "kal16")),
     _C("what step are we on", "where_am_i", _voices("en-us", "kal16")),
     _C("which step is this", "where_am_i", _voices("slt", "rms", "awb", "kal16"))),
    (_C("give me an example", "example", _voices("slt", "awb", "kal16")),
     _C("for example", "example", _voices("en-us", "en-gb", "rms", "kal16")),
     _C("another example", "example", _voices("en-us", "en-us+f3", "en-gb", "slt", "rms", "kal16"))),
    (_C("repeat that", "repeat", _voices("en-us", "rms")),
     _C("say that again", "repeat", _voices("en-us", "en-us+f3", "slt", "rms", "kal16")),
     _C("one more time", "repeat", _voices("en-us+f3", "kal16"))),
    (_C("list the steps", "overview", _voices("slt", "awb", "kal16")),
     _C("table of contents", "overview", _voices("slt", "rms", "awb", "kal16")),
     _C("how many steps are there", "overview", _voices("en-us", "kal16"))),
    (_C("more details", "more", _voices("rms", "kal16")),),
    (_C("summarize", "summary", _voices("en-gb", "en-gb-x-rp+m3", "slt", "awb", "kal16")),
     _C("give me a summary", "summary", _voices("en-us", "en-gb", "slt", "rms", "awb", "kal16")),
     _C("recap", "summary", _voices("kal16"))),
    (_C("what can i say", "help", _voices("en-us+f3", "slt", "rms", "awb", "kal16")),),
    (_C("start over", "start_over", _voices("en-us", "slt", "rms", "kal16")),),
)
SLOWER = (_C("slower", "slower", _voices("en-us", "en-us+f3", "kal16")),
          _C("speak slower", "slower", _voices("en-us", "slt", "rms", "awb", "kal16")))
FASTER = (_C("faster", "faster", _voices("en-us", "slt", "rms", "awb", "kal16")),)
# Groups of commands said in a row. Each keeps every intent unambiguous whatever came before: "next" and
# "go back" follow a "go to step" (2-9), so the guide's end (whose "next" asks a yes/no question) is
# never reached; "pause" is always followed by a resume command; "slower" by "faster". No goodbye.
GROUPS: tuple[tuple[tuple[Command, ...], ...], ...] = (
    (GOTO, NEXT, PREVIOUS), (GOTO, PREVIOUS, NEXT), (PAUSE, RESUME), (SLOWER, FASTER),
    *((options,) for options in SINGLES))


@dataclass(frozen=True)
class Segment:
    """A stretch of the recording, in seconds. Commands carry what they should be understood as."""

    kind: str  # "command", "read" (LibriVox), "noise" (kitchen noise alone) or "silence"
    start: float
    end: float
    text: str = ""
    voice: str = ""
    intent: str = ""
    step: int | None = None
    over_noise: bool = False


@dataclass(frozen=True)
class Heard:
    """One `[  12.34s] heard 'text' (0.94) → intent step=N` line of `voicecoach run --input`."""

    at: float
    text: str
    confidence: float
    intent: str
    step: int | None
    ignored: str
    replied: bool  # a `coach:` line came right after it


@dataclass(frozen=True)
class Score:
    """How the run's turns compare with the plan."""

    commands: int
    over_noise: int
    handled: int
    missed: tuple[tuple[Segment, tuple[Heard, ...]], ...]  # nothing understood at the command's time
    wrong: tuple[tuple[Segment, tuple[Heard, ...]], ...]  # another intent or step, ignored, or no reply
    false_commands: dict[str, tuple[Heard, ...]]  # by the kind of stretch they came from
    minutes_by_kind: dict[str, float]
    by_quarter: tuple[tuple[int, int], ...]  # (handled, played) per quarter of the recording: any drift


@dataclass(frozen=True)
class Memory:
    """RSS (KiB) after warm-up, half-way, near the end, and the peak. A leak grows in both halves.

    PocketSphinx keeps its search buffers at the size of the hardest utterance decoded so far (longer and
    noisier: more; measured in-process: +9 MiB for 10 s of clean read speech, +29 MiB over noise at
    5-10 dB, then flat), so the recording opens with such utterances, inside the warm-up."""

    warm_kib: int
    mid_kib: int
    end_kib: int
    peak_kib: int

    @property
    def growth_pct(self) -> float:
        return 100.0 * (self.end_kib - self.warm_kib) / self.warm_kib if self.warm_kib else 0.0

    @property
    def late_growth_pct(self) -> float:
        return 100.0 * (self.end_kib - self.mid_kib) / self.mid_kib if self.mid_kib else 0.0


@dataclass(frozen=True)
class SoakResult:
    """Everything the report and the test look at."""

    audio_s: float
    wall_s: float
    cpu_s: float
    returncode: int
    stderr: str
    score: Score
    memory: Memory
    ended_early_at: float | None  # a "stop" turn ends the session before the recording does

    @property
    def tracebacks(self) -> int:
        return self.stderr.count("Traceback")


# -- building the recording ------------------------------------------------------------------------

class SoundBank:
    """The sources: synthesized commands (cached), LibriVox clips and the kitchen noise, as int16 arrays."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self.librivox = [read_wav(p) for p in sorted(LIBRIVOX.glob("*.wav"))]
        self.noise = read_wav(KITCHEN_NOISE)
        self._commands: dict[tuple[str, str], np.ndarray] = {}

    def command(self, text: str, voice: str) -> np.ndarray:
        key = (text, voice)
        if key not in self._commands:
            self._commands[key] = read_wav(cached_synthesis(text, self.cache / "speech", voice))
        return self._commands[key]


def _seconds(rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    return np.zeros(int(rng.uniform(low, high) * SAMPLE_RATE), np.int16)


def _command_audio(bank: SoundBank, command: Command, voice: str, noisy: bool,
                   rng: np.random.Generator) -> np.ndarray:
    clip = bank.command(command.text, voice)
    if not noisy:
        return clip
    pad = np.zeros(int(0.3 * SAMPLE_RATE), np.int16)  # the noise starts before the voice and outlasts it
    return mix(np.concatenate([pad, clip, pad]), bank.noise, float(rng.choice([25.0, 30.0])), rng)


def _read_speech(bank: SoundBank, rng: np.random.Generator) -> np.ndarray:
    """8-30 s of LibriVox clips in random order, 0.2-0.8 s apart, at a random level, some over noise."""
    wanted = rng.uniform(8, 30) * SAMPLE_RATE
    parts: list[np.ndarray] = []
    while sum(len(p) for p in parts) < wanted:
        parts += [bank.librivox[rng.integers(len(bank.librivox))], _seconds(rng, 0.2, 0.8)]
    gain = 10 ** (rng.uniform(-6, 3) / 20)
    audio = np.clip(np.concatenate(parts[:-1]).astype(np.float64) * gain, -32768, 32767).astype(np.int16)
    return mix(audio, bank.noise, 15.0, rng) if rng.random() < 0.3 else audio


def _noise_alone(bank: SoundBank, rng: np.random.Generator) -> np.ndarray:
    """5-25 s of kitchen noise from a random place, at 1-4x its recorded level (about 20-8 dB under speech)."""
    length = int(rng.uniform(5, 25) * SAMPLE_RATE)
    start = rng.integers(len(bank.noise))
    piece = np.resize(np.roll(bank.noise, -start), length).astype(np.float64) * rng.uniform(1, 4)
    return np.clip(piece, -32768, 32767).astype(np.int16)


def check_commands(guide: Path = GUIDE) -> None:
    """Fail loudly if the phrase catalog no longer gives a command its expected intent (or step)."""
    loaded = find_guide(str(guide))
    wrong = []
    for options in (options for group in GROUPS for options in group):
        for command in options:
            intent = match_intent(command.text, loaded)
            if (intent.name, intent.slots.get("step")) != (command.intent, command.step):
                wrong.append(f"{command.text!r} → {intent.name} {dict(intent.slots)}, expected {command.intent}")
    if wrong:
        raise ValueError("soak commands understood differently: " + "; ".join(wrong))


def _plan_key(minutes: float, seed: int) -> str:
    table = [[dataclasses.astuple(c) for c in options] for group in GROUPS for options in group]
    return hashlib.sha1(json.dumps([PLAN_VERSION, float(minutes), seed, table]).encode()).hexdigest()[:12]


def build_soak(minutes: float, cache: Path = DEFAULT_CACHE, seed: int = 1) -> tuple[Path, list[Segment]]:
    """The recording and its plan, made once per (minutes, seed) and kept in `cache`.

    Segments are drawn one after another from `seed`, so a shorter recording is the start of a longer one.
    The WAV is written as it is made: memory stays at one segment, whatever the length. Synthesized
    clips are cached in `cache`/speech; sox dithers, so a fresh cache gives slightly different audio."""
    check_commands()
    key = _plan_key(minutes, seed)
    wav_path, plan_path = cache / f"soak-{minutes:g}min-{key}.wav", cache / f"soak-{minutes:g}min-{key}.json"
    if wav_path.exists() and plan_path.exists():
        return wav_path, [Segment(**s) for s in json.loads(plan_path.read_text())]
    cache.mkdir(parents=True, exist_ok=True)
    bank, rng = SoundBank(cache), np.random.default_rng(seed)
    plan: list[Segment] = []
    written = 0
    part = wav_path.with_name(wav_path.name + ".part")
    with wave.open(str(part), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)

        def add(kind: str, audio: np.ndarray, **fields: object) -> None:
            nonlocal written
            out.writeframes(audio.astype("<i2").tobytes())
            plan.append(Segment(kind, written / SAMPLE_RATE, (written + len(audio)) / SAMPLE_RATE, **fields))
            written += len(audio)

        add("silence", np.zeros(2 * SAMPLE_RATE, np.int16))
        # First the LibriVox clips back to back over loud noise: the hardest utterances of the recording
        # (10 s, the endpointer's cap, full of words), so the recognizer's buffers reach their full size
        # within the warm-up (see Memory).
        add("read", mix(np.concatenate(bank.librivox), bank.noise, 10.0, rng))
        add("silence", np.zeros(2 * SAMPLE_RATE, np.int16))
        while written < minutes * 60 * SAMPLE_RATE:
            for _ in range(rng.integers(2, 5)):
                for options in GROUPS[rng.integers(len(GROUPS))]:
                    command = options[rng.integers(len(options))]
                    voice = str(rng.choice(command.voices))
                    noisy = bool(rng.random() < 1 / 3) and command.noise_ok
                    add("command", _command_audio(bank, command, voice, noisy, rng), text=command.text,
                        voice=voice, intent=command.intent, step=command.step, over_noise=noisy)
                    add("silence", _seconds(rng, 1.5, 2.5))
            if rng.random() < 0.5:
                if rng.random() < 0.5:
                    add("read", _read_speech(bank, rng))
                else:
                    add("noise", _noise_alone(bank, rng))
                add("silence", _seconds(rng, 2.0, 3.0))
    publish(part, wav_path)
    plan_path.write_text(json.dumps([dataclasses.asdict(s) for s in plan]))
    return wav_path, plan


# -- running the live loop -------------------------------------------------------------------------

@dataclass(frozen=True)
class LiveRun:
    """What one `voicecoach run --input` did: its exit, output, and RSS over time."""

    returncode: int
    wall_s: float
    stdout: str
    stderr: str
    rss: tuple[tuple[float, int], ...]  # (seconds since start, KiB of the process and its children)
    cpu_s: float  # as of the last sample


def run_live(wav: Path, work: Path, guide: Path = GUIDE, timeout_s: float = 3600,
             engine: str = "auto") -> LiveRun:
    """`voicecoach run --input WAV --fresh` as fast as it goes, RSS sampled every second."""
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "VOICECOACH_STATE_DIR": str(work / "state"), "PULSE_SERVER": "unix:/nonexistent"}
    out_path, err_path = work / "stdout.txt", work / "stderr.txt"
    samples: list[tuple[float, int]] = []
    cpu = 0.0
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "voicecoach", "run", "--input", str(wav),
                                    "--guide", str(guide), "--fresh", "--engine", engine],
                                   stdout=out, stderr=err, env=env, cwd=REPO)
        try:
            while process.poll() is None:
                try:
                    rss, cpu_now = proc_stats(process.pid)
                except OSError:  # it exited between the poll and the reads
                    rss, cpu_now = 0, cpu
                if rss:
                    samples.append((time.monotonic() - started, rss))
                    cpu = max(cpu, cpu_now)
                try:
                    process.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    if time.monotonic() - started > timeout_s:
                        process.kill()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        wall = time.monotonic() - started
    return LiveRun(process.returncode, wall, out_path.read_text(), err_path.read_text(), tuple(samples), cpu)


def parse_turns(stdout: str) -> list[Heard]:
    """The `heard` lines of a run's output (see voicecoach/live.py, `on_turn`)."""
    lines = stdout.splitlines()
    turns = []
    for index, line in enumerate(lines):
        match = TURN.match(line)
        if match is None or match["at"] is None:
            continue
        slots = dict(s.split("=", 1) for s in match["slots"].split())
        step = int(slots["step"]) if slots.get("step", "").isdigit() else None
        replied = index + 1 < len(lines) and lines[index + 1].startswith("coach:")
        turns.append(Heard(float(match["at"]), match["text"], float(match["confidence"]), match["intent"], step,
                           match["ignored"] or "", replied))
    return turns


def score_turns(plan: list[Segment], turns: list[Heard]) -> Score:
    """Each turn belongs to the last non-silent segment begun before it; a command's turns are the ones
    within its window. The command is handled when exactly its intent (and step) was acted on and
    answered there, and nothing else fired; any other intent outside a command's window is false."""
    sounds = [s for s in plan if s.kind != "silence"]
    starts = [s.start - WINDOW_BEFORE_S for s in sounds]
    by_command: dict[int, list[Heard]] = {i: [] for i, s in enumerate(sounds) if s.kind == "command"}
    false: dict[str, list[Heard]] = {"read": [], "noise": [], "silence": []}
    for turn in turns:
        index = bisect.bisect_right(starts, turn.at) - 1
        segment = sounds[index] if index >= 0 else None
        if segment is not None and segment.kind == "command" and turn.at <= segment.end + WINDOW_AFTER_S:
            by_command[index].append(turn)
        elif turn.intent != "none":
            false["silence" if segment is None or segment.kind == "command" else segment.kind].append(turn)
    missed, wrong = [], []
    for index, heard in by_command.items():
        command = sounds[index]
        fired = [t for t in heard if t.intent != "none"]
        if not fired:
            missed.append((command, tuple(heard)))
        elif len(fired) > 1 or not _is_handled(command, fired[0]):
            wrong.append((command, tuple(heard)))
    minutes = {kind: sum(s.end - s.start for s in plan if s.kind == kind) / 60
               for kind in ("command", "read", "noise", "silence")}
    commands = [s for s in sounds if s.kind == "command"]
    failed = {id(command) for command, _ in missed + wrong}
    quarters = [[0, 0] for _ in range(4)]
    for command in commands:
        quarter = quarters[min(3, int(4 * command.start / plan[-1].end))]
        quarter[0] += id(command) not in failed
        quarter[1] += 1
    return Score(len(commands), sum(s.over_noise for s in commands), len(commands) - len(missed) - len(wrong),
                 tuple(missed), tuple(wrong), {k: tuple(v) for k, v in false.items()}, minutes,
                 tuple((h, n) for h, n in quarters))


def _is_handled(command: Segment, turn: Heard) -> bool:
    return (turn.intent == command.intent and turn.step == command.step and not turn.ignored and turn.replied)


def memory_figures(samples: tuple[tuple[float, int], ...], wall_s: float) -> Memory:
    """RSS at WARM_UP_SHARE of the run; near the end: the highest in the last WARM_UP_SHARE (the very last
    samples can fall in the shutdown, after the recording's samples are freed); the peak of the run."""
    if not samples:
        return Memory(0, 0, 0, 0)
    warm, mid = (next((kib for at, kib in samples if at >= share * wall_s), samples[-1][1])
                 for share in (WARM_UP_SHARE, 0.5))
    end = max(kib for at, kib in samples if at >= min((1 - WARM_UP_SHARE) * wall_s, samples[-1][0]))
    return Memory(warm, mid, end, max(kib for _, kib in samples))


def soak(minutes: float, work: Path, cache: Path = DEFAULT_CACHE, seed: int = 1,
         engine: str = "auto") -> SoakResult:
    """Build (or reuse) the recording, run the live loop on it with `engine`, and score the run."""
    wav, plan = build_soak(minutes, cache, seed)
    run = run_live(wav, work, engine=engine)
    turns = parse_turns(run.stdout)
    stops = [t.at for t in turns if t.intent == "stop" and not t.ignored]
    return SoakResult(plan[-1].end, run.wall_s, run.cpu_s, run.returncode, run.stderr, score_turns(plan, turns),
                      memory_figures(run.rss, run.wall_s), stops[0] if stops else None)


# -- the report ------------------------------------------------------------------------------------

def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def _growth(change_pct: float, before_kib: int, after_kib: int) -> str:
    return f"{change_pct:+.2f}% ({(after_kib - before_kib) / 1024:+.1f} MiB)"


def print_report(result: SoakResult) -> None:
    score, memory, minutes = result.score, result.memory, result.score.minutes_by_kind
    false = {kind: len(turns) for kind, turns in score.false_commands.items()}
    quarters = " / ".join(f"{100 * h / max(1, n):.1f}%" for h, n in score.by_quarter)
    rows = [
        ("audio", f"{result.audio_s / 60:.1f} min (commands {minutes['command']:.1f}, read speech "
                  f"{minutes['read']:.1f}, noise alone {minutes['noise']:.1f}, silence {minutes['silence']:.1f})", ""),
        ("wall time", f"{result.wall_s:.0f} s (CPU {result.cpu_s:.0f} s)", ""),
        ("speed vs real time", f"{result.audio_s / result.wall_s:.1f}x", "> 1x"),
        ("commands played", f"{score.commands} ({score.over_noise} over kitchen noise)", ""),
        ("commands handled", f"{score.handled} ({100 * score.handled / max(1, score.commands):.1f}%)", "all"),
        ("handled per quarter of the recording", quarters, "no drift"),
        ("missed / wrong", f"{len(score.missed)} / {len(score.wrong)}", "0 / 0"),
        ("false commands: read speech", f"{false['read']} in {minutes['read']:.1f} min", "few"),
        ("false commands: noise alone", f"{false['noise']} in {minutes['noise']:.1f} min", "few"),
        ("false commands: silence", str(false["silence"]), "0"),
        ("session ended early (a stop heard)",
         "no" if result.ended_early_at is None else f"yes, at {result.ended_early_at:.1f} s", "no"),
        ("tracebacks in stderr", str(result.tracebacks), "0"),
        ("exit code", str(result.returncode), "0"),
        (f"RSS after warm-up ({WARM_UP_SHARE:.0%} of the run)", _mib(memory.warm_kib), ""),
        (f"RSS near the end (highest in the last {WARM_UP_SHARE:.0%}) / peak",
         f"{_mib(memory.end_kib)} / {_mib(memory.peak_kib)}", ""),
        ("RSS growth, warm-up to end", _growth(memory.growth_pct, memory.warm_kib, memory.end_kib),
         f"< {AIM_RSS_GROWTH_PCT:g}%"),
        ("RSS growth, half-way to end", _growth(memory.late_growth_pct, memory.mid_kib, memory.end_kib),
         "~0 (no leak)"),
    ]
    print("| figure | value | aim |\n|---|---|---|")
    for name, value, aim in rows:
        print(f"| {name} | {value} | {aim} |")
    for title, cases in (("missed", score.missed), ("wrong", score.wrong)):
        for command, heard in cases:
            said = "; ".join(f"{h.text!r}→{h.intent}{' ' + h.ignored if h.ignored else ''}" for h in heard)
            print(f"{title}: {command.start:7.1f}s {command.text!r} ({command.voice}"
                  f"{', over noise' if command.over_noise else ''}) → {said or 'nothing'}")
    for kind, heard in score.false_commands.items():
        for h in heard:
            print(f"false ({kind}): {h.at:7.1f}s {h.text!r} ({h.confidence:.2f}) → {h.intent}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the recording is kept")
    parser.add_argument("--engine", default="auto", help="the recognizer (auto|whisper|vosk|pocketsphinx)")
    args = parser.parse_args()
    started = time.monotonic()
    wav, plan = build_soak(args.minutes, args.cache, args.seed)
    print(f"recording: {wav} ({plan[-1].end / 60:.1f} min, ready in {time.monotonic() - started:.0f} s)")
    result = soak(args.minutes, Path(tempfile.mkdtemp(prefix="voicecoach-soak-run-")), args.cache, args.seed,
                  args.engine)
    print_report(result)


if __name__ == "__main__":
    main()
