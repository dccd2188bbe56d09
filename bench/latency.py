"""Live-loop latency over real audio devices (a private PulseAudio daemon with null sinks `mic` and `spk`).

`voicecoach run` listens on the default devices. Commands are played into `mic`; what the microphone
receives is recorded from `mic`'s monitor and what the coach says from `spk`'s. The clock starts at the end
of the command's words as the microphone received them (the last sample above the speech level in the `mic`
recording), not when the player returns (its drain and the voice's trailing silence lie between), and stops
at the first audible sample of the reply. Also reported: replies per command, commands understood as meant
(with what was heard for every other one), barge-in (end of "stop" → the coach's voice stops), and the
process's RSS and CPU while idle-listening.

    .venv/bin/python bench/latency.py [--commands 30] [--voice espeak-ng:en-us] [--early-ms 0]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from voicecoach.testing.live_coach import TURN, LiveCoach  # noqa: E402
from voicecoach.testing.pulse import start_pulse  # noqa: E402
from voicecoach.testing.speaker_monitor import LOUD, RATE, Monitor  # noqa: E402
from voicecoach.audio.synth import cached_synthesis  # noqa: E402

GUIDE = REPO / "content" / "relationship-ten-steps.yaml"
VOICE = "flite:slt"
# Each command with the intent it means (the coach is somewhere in the middle of the guide, so every one
# of them has an answer).
COMMANDS = [("where am i", "where_am_i"), ("next step", "next"), ("repeat that", "repeat"), ("go back", "previous"),
            ("summarize", "summary"), ("give me an example", "example"), ("go to step three", "goto_step"),
            ("slower", "slower"), ("faster", "faster"), ("what step are we on", "where_am_i")]


def play(pulse, wav: Path) -> float:
    """Play into `mic`; returns the monotonic time the command ended."""
    pulse.play(wav, wait=True)
    return time.monotonic()


def proc_stats(pid: int) -> tuple[int, float]:
    """(RSS in KiB, CPU seconds used so far) of the process and its children (the recognizer process)."""
    rss, ticks = 0, 0
    for member in _family(pid):
        try:
            rss += int(next(line for line in open(f"/proc/{member}/status") if line.startswith("VmRSS")).split()[1])
            fields = open(f"/proc/{member}/stat").read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, StopIteration):
            continue
    return rss, ticks / 100.0


def _family(pid: int) -> list[int]:
    members = [pid]
    for member in members:
        for task in Path(f"/proc/{member}/task").glob("*/children"):
            members += [int(child) for child in task.read_text().split()]
    return members


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commands", type=int, default=30)
    parser.add_argument("--barge-ins", type=int, default=5)
    parser.add_argument("--voice", default=VOICE, help="the voice the commands are spoken in (espeak-ng:..., flite:...)")
    parser.add_argument("--hangover-ms", type=int, default=None, help="passed to voicecoach run")
    parser.add_argument("--early-ms", type=int, default=None, help="passed to voicecoach run (0: no early decisions)")
    parser.add_argument("--verbose", action="store_true", help="print when each command's words ended and the reply began")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="voicecoach-latency-"))
    pulse = start_pulse(base)
    env = {**pulse.env, "VOICECOACH_STATE_DIR": str(base / "state")}
    cache = base / "speech"
    extra = ["--hangover-ms", str(args.hangover_ms)] if args.hangover_ms else []
    extra += ["--early-ms", str(args.early_ms)] if args.early_ms is not None else []
    coach = LiveCoach(env, "--fresh", "--guide", str(GUIDE), *extra, verbosity=2 if args.verbose else 0)
    process = coach.process
    monitor = Monitor(pulse, base / "spk.wav")
    heard_by_mic = Monitor(pulse, base / "mic.wav", source="mic.monitor")
    try:
        assert monitor.first_sound_after(monitor.started, 60), "the coach never spoke"
        monitor.wait_quiet()
        latencies: list[float] = []
        played: list[tuple[str, float, float | None]] = []  # (command, end of its words, start of the reply)
        lost: list[str] = []
        misunderstood: list[str] = []
        for index in range(args.commands):
            text, meant = COMMANDS[index % len(COMMANDS)]
            coach.drain()
            seen_before = len(coach.seen)
            before = time.monotonic()
            after = play(pulse, cached_synthesis(text, cache, args.voice))
            words_end = heard_by_mic.last_sound_between(before, after)
            reply = monitor.first_sound_after(words_end or after, 5.0)
            monitor.wait_quiet()
            turns = [m for line in coach.drain()[seen_before:] if (m := TURN.search(line))]
            acted = [m for m in turns if not m["ignored"]]
            said = "; ".join(f"{m['text']!r} → {m['intent']}" + (f" (ignored: {m['ignored']})" if m["ignored"] else "")
                             for m in turns) or "nothing heard"
            if args.verbose:
                print(f"  {text!r}: words end {None if words_end is None else round(words_end - after, 3)} s before "
                      f"the player returned; reply {None if reply is None or words_end is None else round(reply - words_end, 3)} s after", flush=True)
            if words_end is not None:
                played.append((text, words_end, reply))
            if reply is None or words_end is None:
                lost.append(f"{text!r}: {said}")
            else:
                latencies.append((reply - words_end) * 1000)
            if not acted or acted[-1]["intent"] != meant:
                misunderstood.append(f"{text!r} (meant {meant}): {said}")

        barge = []
        acknowledgement = _acknowledgement()
        for _ in range(args.barge_ins):
            play(pulse, cached_synthesis("list the steps", cache, args.voice))
            onset = monitor.first_sound_after(time.monotonic() - 1, 5.0)
            time.sleep(max(0.0, (onset or time.monotonic()) + 1.5 - time.monotonic()))
            ended = play(pulse, cached_synthesis("stop", cache, args.voice))
            monitor.wait_covered(ended + 4.0)
            # The coach cuts its reading and says "Paused. ..." at once: find that acknowledgement in the
            # recording by cross-correlation; its start is (a little after) the moment the voice was cut.
            cut = _find(monitor.samples(), acknowledgement, int((ended - monitor.started) * RATE), 4 * RATE)
            if cut is not None:
                barge.append(max(0.0, (monitor.started + cut / RATE - ended) * 1000))
            monitor.wait_quiet()
            resumed = play(pulse, cached_synthesis("resume", cache, args.voice))
            monitor.first_sound_after(resumed, 5.0)
            monitor.wait_quiet()

        rss_before, cpu_before = proc_stats(process.pid)
        time.sleep(10)
        rss_after, cpu_after = proc_stats(process.pid)
    finally:
        errors = coach.close()
        Path(base / "coach.log").write_text("\n".join(coach.drain()))
        Path(base / "coach.stderr").write_text(errors)
        monitor.recording.stop()
        heard_by_mic.recording.stop()
        pulse.stop()

    print(f"commands in {args.voice}; voicecoach run {' '.join(extra) or '(defaults)'}\n")
    print("| measure | value | aim |\n|---|---|---|")
    print(f"| commands replied to | {args.commands - len(lost)} of {args.commands} | all |")
    print(f"| commands understood as meant | {args.commands - len(misunderstood)} of {args.commands} | ≥ 29 of 30 |")
    if latencies:
        print(f"| end of the words (as the microphone received them) → first audible reply, p50 "
              f"| {percentile(latencies, 0.5):.0f} ms | ≤ 300 ms |")
        print(f"| end of the words → first audible reply, p95 | {percentile(latencies, 0.95):.0f} ms | ≤ 450 ms |")
    if barge:
        print(f"| barge-in: end of \"stop\" → voice cut, median (n={len(barge)}) | {statistics.median(barge):.0f} ms | ≤ 500 ms |")
    else:
        print("| barge-in | no cut detected | ≤ 500 ms |")
    print(f"| RSS while idle-listening (with the recognizer process) | {rss_after / 1024:.0f} MB | < 200 MB |")
    underruns = errors.count("underrun occurred")
    print(f"| output underruns (playback gaps from CPU stalls) | {underruns} | 0 |")
    print(f"| the coach's log | {base / 'coach.log'} | |")
    print(f"| CPU while idle-listening | {100 * (cpu_after - cpu_before) / 10:.1f}% of one core | < 15% |")
    if args.verbose:  # where the time went, turn by turn, as the coach logged it
        for line in errors.splitlines():
            if "timings ms:" in line or "first sentence synthesized" in line or "first audio due" in line:
                print("  " + line.split(": ", 1)[1])
        print_timelines(errors, played)
    for title, items in (("no reply", lost), ("not understood as meant", misunderstood)):
        for item in items:
            print(f"  {title}: {item}")


def print_timelines(log: str, played: list[tuple[str, float, float | None]]) -> None:
    """Each turn's timeline as the coach logged it (`timeline s:` lines, in time.monotonic(), which this process
    shares), from the end of the words it followed: the capture of the frame that decided the end, its arrival
    in the loop, the utterance handed over (after its decode when decided early), the reply audible."""
    rows = []
    for line in log.splitlines():
        if "timeline s:" not in line:
            continue
        captured, arrived, handed = (float(word.rstrip(",")) for word in line.split()
                                     if word.rstrip(",").replace(".", "", 1).isdigit())
        before = [p for p in played if p[1] <= captured]
        if before:
            text, words_end, reply = before[-1]
            rows.append((text, captured - words_end, arrived - captured, handed - arrived,
                         None if reply is None else reply - handed))
    if not rows:
        return
    print("\n| command | words end → deciding frame captured | → reached the loop | → handed over | → reply audible |")
    print("|---|---|---|---|---|")
    for text, *steps in rows:
        print(f"| {text} | " + " | ".join("?" if step is None else f"{1000 * step:.0f} ms" for step in steps) + " |")
    for index, name in enumerate(("captured", "reached the loop", "handed over", "reply audible"), start=1):
        values = [row[index] for row in rows if row[index] is not None]
        if values:
            print(f"  median step to {name}: {1000 * statistics.median(values):.0f} ms (n={len(values)})")


def _acknowledgement() -> np.ndarray:
    """The start of the coach's "Paused." reply, as the coach's voice says it (the voice `run` picks: Piper when
    its voice is installed, else espeak-ng)."""
    from voicecoach.audio.frames import resample_to_16k
    from voicecoach.coach.state import DEFAULT_RATE
    from voicecoach.voice.engines import choose_synthesizer
    from voicecoach.voice.synthesizer import VoiceSettings

    clip = choose_synthesizer(VoiceSettings(None, DEFAULT_RATE, 1.0)).synthesize("Paused.", rate=DEFAULT_RATE)
    samples = resample_to_16k(np.asarray(clip.samples), clip.sample_rate).astype(np.float64)
    loud = np.flatnonzero(np.abs(samples) > LOUD)
    return samples[loud[0]: loud[0] + int(0.4 * RATE)]


def _find(recording: np.ndarray, pattern: np.ndarray, start: int, length: int) -> int | None:
    """Where `pattern` best matches in recording[start:start+length] (normalised correlation > 0.6)."""
    window = recording[start:start + length].astype(np.float64)
    if len(window) < len(pattern):
        return None
    scores = np.correlate(window, pattern, mode="valid")
    energy = np.sqrt(np.convolve(window ** 2, np.ones(len(pattern)), mode="valid")) * np.linalg.norm(pattern)
    normalised = scores / np.maximum(energy, 1e-9)
    best = int(np.argmax(normalised))
    return start + best if normalised[best] > 0.6 else None


if __name__ == "__main__":
    main()
