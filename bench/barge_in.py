"""Barge-in over a loudspeaker: real people's commands said over the coach's own voice, with an echo path
between the coach's output and its input. Two variants, one run each:

--wav (default): a reproducible room on files (voicecoach/testing/echo_room.py): the coach's Piper voice
  reading the guide, delayed, through a decaying room response, at -6..+12 dB against the person (and a clipped
  speaker), with a real "stop"/"forward" (Speech Commands clips, 54 speakers) on top. The live capture-path
  code runs on it (PlaybackHistory → FarEnd → delay estimate → WebRTC AEC3), then the live loop's own
  steps for an utterance heard while speaking: endpointer, the comparison filter (backstop), the default
  recognizer, the intent matcher, and the barge-in rule. Measured with the canceller on and off: commands
  recognised and acted on, commands fired by the coach's voice alone, echo removed, the canceller's CPU.

--live: `voicecoach run` on real PulseAudio devices, its voice looped back into its microphone
  (module-loopback, 60 ms), the person's clip played into the microphone at the echo's level +/- gain.
  Measured: commands acted on, barge-in latency (end of "stop" → the coach's voice cut), and commands fired
  by its own voice alone over a stretch of continuous reading (the loopback at +0 and +12 dB, clipped).

The WAV variant also compares, in one run, the recognizer as before (a free decode) with the recognizer told
that the coach was speaking (Hearing.over_voice: the constrained barge-in decode of whisper_engine), and
counts other words and noise clips said over the coach that fire a command. The Speech Commands speakers
are split by a hash of their id (--half tune|test, fixed before tuning); --tune grid-searches the barge-in
margins on the tune half only.

    .venv/bin/python bench/barge_in.py [--wav] [--half test] [--clips 32] [--others 2] [--levels 0,6,12]
    .venv/bin/python bench/barge_in.py --tune --clips 32 --others 2 --levels 0,6,12
    .venv/bin/python bench/barge_in.py --live [--trials 10] [--own-voice-s 120]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from voicecoach.testing.echo_room import (Room, echo_removed_db, make_scene, rms,  # noqa: E402
                                         run_capture_path, word_kept_db)
from voicecoach.audio.frames import SAMPLE_RATE, resample_to_16k, split_frames  # noqa: E402
from voicecoach.audio.wavfile import read_wav, write_wav  # noqa: E402
from voicecoach.testing.live_coach import TURN  # noqa: E402

PEOPLE = Path("/work/shared/peer-data/speech-commands")
if not PEOPLE.exists():
    PEOPLE = REPO.parent / "shared" / "peer-data" / "speech-commands"
GUIDE = REPO / "content" / "relationship-ten-steps.yaml"
# Speech Commands words and what the coach must do with each while it speaks (see the folder's README).
EXPECTED = {"stop": {"pause", "stop"}, "forward": {"next"}, "backward": {"previous"}}
# Words (and noise) not meant for the coach: heard over its voice, nothing may fire ("off" may be a pause,
# "right" a yes, which does not count while speaking, so right stays in).
OTHER_WORDS = ("up", "down", "left", "on", "right", "no", "yes", "bed", "bird", "dog", "follow", "house", "sheila",
               "tree", "_silence_")


def half_of(speaker: str) -> str:
    """The speaker's half, fixed before any tuning (the split of bench/whisper.py and bench/speech.py)."""
    return "tune" if zlib.crc32(speaker.encode()) % 2 == 0 else "test"


def people_clips(word: str, count: int, half: str = "all") -> list[Path]:
    """`count` clips of `word` (of speakers in `half`: tune, test or all), one per speaker first (spread
    over the sorted list), deterministic."""
    clips = [c for c in sorted((PEOPLE / word).glob("*.wav"))
             if half == "all" or half_of(c.name.split("_nohash_")[0]) == half]
    by_speaker: dict[str, Path] = {}
    for clip in clips:
        by_speaker.setdefault(clip.name.split("_")[0], clip)
    chosen = list(by_speaker.values())
    chosen += [c for c in clips if c not in chosen]
    return chosen[:count]


def coach_voice(seconds: float) -> np.ndarray:
    """The coach's default voice reading the guide's first steps, 16 kHz."""
    from voicecoach.guide.library import find_guide
    from voicecoach.voice.synthesizer import Synthesizer

    guide = find_guide(str(GUIDE))
    synthesizer = Synthesizer()
    pieces: list[np.ndarray] = []
    for step in guide.steps:
        for paragraph in step.body:
            clip = synthesizer.synthesize(paragraph)
            pieces.append(resample_to_16k(np.asarray(clip.samples), clip.sample_rate))
            pieces.append(np.zeros(int(0.4 * SAMPLE_RATE), np.int16))
            if sum(len(p) for p in pieces) >= seconds * SAMPLE_RATE:
                return np.concatenate(pieces)[: int(seconds * SAMPLE_RATE)]
    return np.concatenate(pieces)


# -- the WAV variant ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Piece:
    """One utterance heard while the coach speaks: what the coach acts on without and with the barge-in
    decode (Hearing.over_voice), as (intent, text) or None, and the barge-in scores behind the second."""

    start: float
    end: float
    before: tuple[str, str] | None
    after: tuple[str, str] | None
    scores: object = None  # whisper_engine.BargeInScores, when the recognizer forced the barge-in phrasings


@dataclass
class Loop:
    """The live loop's handling of an utterance heard while the coach speaks (Session.handle), on files."""

    recognizer: object
    guide: object

    def hear(self, samples: np.ndarray, played: np.ndarray, compare: bool = True, from_s: float = 0.0) -> list[Piece]:
        """Each utterance in `samples` (the microphone after the capture path) while the coach plays `played`,
        ending after `from_s`: endpointer (speaking settings), backstop filter, recognizer (without the
        barge-in flag when `compare`, then with it), intent matcher, barge-in rule."""
        import dataclasses

        from voicecoach.audio.echo import ReferenceEchoFilter
        from voicecoach.audio.endpoint import EndpointSettings, VadEndpointer
        from voicecoach.coach.machine import Coach
        from voicecoach.session import BARGE_IN_INTENTS
        from voicecoach.speech.recognizer import Hearing
        from voicecoach.voice.clip import AudioClip

        reference = _FileReference(AudioClip(played, SAMPLE_RATE))
        backstop = ReferenceEchoFilter(reference)
        endpointer = VadEndpointer(EndpointSettings(max_utterance_ms=1500))
        context = dataclasses.replace(Coach(self.guide, fresh=True).context, speaking=True)
        over_voice = Hearing(over_voice=True, commands=BARGE_IN_INTENTS)
        pieces = []
        utterances = [u for f in split_frames(samples) for u in endpointer.process(f)] + endpointer.flush()
        for utterance in utterances:
            if utterance.end < from_s:
                continue
            cleaned = backstop.clean(utterance, heard_at=utterance.end)
            if cleaned is None:
                continue
            before = self._acted(self.recognizer.recognize(cleaned), context) if compare else None
            heard, scores = self._heard_over_voice(cleaned, over_voice)
            pieces.append(Piece(utterance.start, utterance.end, before, self._acted(heard, context), scores))
        return pieces

    def _heard_over_voice(self, samples: np.ndarray, hearing) -> tuple[object, object]:
        """The transcript heard over the coach's voice, and the barge-in scores behind it (None when the
        recognizer forced no barge-in phrasings, or has none to force: not Whisper)."""
        with_scores = getattr(self.recognizer, "recognize_with_scores", None)
        if with_scores is None:
            return self.recognizer.recognize(samples, hearing), None
        return with_scores(samples, hearing)

    def _acted(self, heard, context) -> tuple[str, str] | None:
        from voicecoach.session import BARGE_IN_INTENTS
        from voicecoach.speech.pipeline import DEFAULT_MIN_CONFIDENCE, understand

        intent = understand(heard, self.guide, context, DEFAULT_MIN_CONFIDENCE)
        return (intent.name, heard.text) if intent.name in BARGE_IN_INTENTS else None


class _FileReference:
    """What was played, on the stream's own clock (t = seconds from the start of the scene)."""

    def __init__(self, clip) -> None:
        self.clip = clip

    def segment(self, start: float, end: float):
        from voicecoach.voice.clip import AudioClip

        out = np.zeros(max(0, round((end - start) * SAMPLE_RATE)), np.int16)
        offset = round(-start * SAMPLE_RATE)
        src = np.asarray(self.clip.samples)
        lo, hi = max(0, offset), min(len(out), offset + len(src))
        if hi > lo:
            out[lo:hi] = src[lo - offset:hi - offset]
        return AudioClip(out, SAMPLE_RATE)


ROOMS = {"60 ms, 250 ms room": Room(60, 250), "150 ms, 250 ms room, clipped": Room(150, 250, clip=0.35)}
WORD_AT_S = 5.0  # the word lands 5 s into the coach's voice: the canceller has had 5 s


@dataclass(frozen=True)
class Heard:
    """One clip said over the coach in one room at one level, and what was heard then."""

    word: str
    clip: str
    room: str
    level: int
    cancel: bool
    pieces: tuple[Piece, ...]
    word_start: float
    word_end: float
    kept_db: float | None = None
    removed_db: float | None = None
    cpu_share: float | None = None

    def on_word(self, piece: Piece) -> bool:
        return piece.start <= self.word_end + 0.3 and piece.end >= self.word_start


def hear_clips(loop: Loop, played: np.ndarray, words: list[tuple[str, Path]], levels: list[int], cancels: list[bool],
               compare: bool = True) -> list[Heard]:
    """Every clip over the coach's voice in every room, level and canceller setting."""
    from voicecoach.audio.echo_canceller import WebRtcEchoCanceller

    heard = []
    for room_name, room in ROOMS.items():
        for level in levels:
            for cancel in cancels:
                for index, (word, path) in enumerate(words):
                    person = read_wav(path)
                    scene = make_scene(played, person, Room(room.delay_ms, room.decay_ms, room.clip, seed=index),
                                       level, WORD_AT_S)
                    kept = removed = cpu = None
                    if cancel:
                        result = run_capture_path(scene, WebRtcEchoCanceller())
                        out = result.out
                        kept, removed = word_kept_db(scene, out), echo_removed_db(scene, out, after_s=4.0)
                        cpu = result.stage.stats.cpu_share
                    else:
                        out = scene.near
                    pieces = tuple(loop.hear(out, played, compare, WORD_AT_S - 0.5))
                    heard.append(Heard(word, path.name, room_name, level, cancel, pieces,
                                       scene.word_start / SAMPLE_RATE, scene.word_end / SAMPLE_RATE, kept, removed, cpu))
    return heard


def outcome(heard: Heard, after: bool) -> str:
    """right (the word's command acted on), wrong (another command acted on) or none; for other words and
    noise, fired (any command acted on) or none."""
    acted = [(p, p.after if after else p.before) for p in heard.pieces]
    acted = [(p, a) for p, a in acted if a is not None]
    if heard.word not in EXPECTED:
        return "fired" if acted else "none"
    if any(a[0] in EXPECTED[heard.word] for p, a in acted if heard.on_word(p)):
        return "right"
    return "wrong" if acted else "none"


def collect(loop: Loop, played: np.ndarray, words: list[tuple[str, Path]], levels: list[int], cancels: list[bool],
            key: str) -> list[Heard]:
    """hear_clips, its results kept in the temporary folder under `key` (a replay with other settings is
    then instant). The recognizer forces the widest phrase set; replay() narrows it to the settings'."""
    import pickle

    cache = Path(tempfile.gettempdir()) / f"voicecoach-barge-{key}.pickle"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    heard = hear_clips(loop, played, words, levels, cancels)
    cache.write_bytes(pickle.dumps(heard))
    return heard


def wav_variant(clips: int, levels: list[int], half: str, others: int, own_voice_s: float, cancels: list[bool]) -> None:
    from voicecoach.audio.echo_canceller import WebRtcEchoCanceller
    from voicecoach.guide.library import find_guide
    from voicecoach.live import listening_phrases
    from voicecoach.speech.engine import build_recognizer

    guide = find_guide(str(GUIDE))
    notices: list[str] = []
    recognizer = build_recognizer(listening_phrases(guide, None), "auto", None, notice=notices.append)
    final = getattr(recognizer, "settings", None)
    if final is not None:  # record the widest phrase set; the decisions are replayed with the settings'
        recognizer.settings = dataclasses.replace(final, barge_in_per_command=3)
    loop = Loop(recognizer, guide)
    played = coach_voice(8.0)
    commands = [(word, clip) for word in EXPECTED for clip in people_clips(word, clips, half)]
    other = [(word, clip) for word in OTHER_WORDS for clip in people_clips(word, others, half)]
    print(f"recognizer: {notices[0] if notices else '?'}")
    print(f"speakers: {half} half. {len(commands)} real commands ({', '.join(EXPECTED)}; up to {clips} each), "
          f"{len(other)} other words and noise clips (up to {others} of each of {len(OTHER_WORDS)}), the word at "
          f"{WORD_AT_S} s of the coach's voice (utterances from 0.5 s before it counted). before: the free decode "
          f"(with its near-miss recovery); after: the recognizer told that the coach is speaking (the constrained "
          f"barge-in decode, its decision made with the recognizer's settings on the recorded forced scores)\n")
    started = time.perf_counter()
    key = f"{half}-{clips}-{others}-{'_'.join(map(str, levels))}-{'_'.join(map(str, cancels))}"
    said = [replay(h, final, recognizer) for h in collect(loop, played, commands, levels, cancels, f"said-{key}")]
    heard_others = [replay(h, final, recognizer) for h in collect(loop, played, other, levels, cancels, f"others-{key}")]
    print("| room | echo vs person | canceller | commands acted on: before → after | wrong command: before → after "
          "| other words and noise firing: before → after | word kept (dB) | echo removed after 4 s (dB) | "
          "canceller CPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for room_name in ROOMS:
        for level in levels:
            for cancel in cancels:
                rows = [h for h in said if (h.room, h.level, h.cancel) == (room_name, level, cancel)]
                noise = [h for h in heard_others if (h.room, h.level, h.cancel) == (room_name, level, cancel)]
                n, m = len(rows), len(noise)
                count = lambda items, result, after: sum(outcome(h, after) == result for h in items)  # noqa: E731
                kept = [h.kept_db for h in rows if h.kept_db is not None]
                removed = [h.removed_db for h in rows if h.removed_db is not None]
                cpu = [h.cpu_share for h in rows if h.cpu_share is not None]
                cells = [room_name, f"{level:+d} dB", "AEC3" if cancel else "off",
                         f"{count(rows, 'right', False)} → {count(rows, 'right', True)} of {n}",
                         f"{count(rows, 'wrong', False)} → {count(rows, 'wrong', True)}",
                         f"{count(noise, 'fired', False)} → {count(noise, 'fired', True)} of {m}",
                         f"{statistics.median(kept):+.1f}" if kept else "-",
                         f"{statistics.median(removed):.1f} (min {min(removed):.1f})" if removed else "-",
                         f"{100 * statistics.median(cpu):.1f}% of one core" if cpu else "-"]
                print("| " + " | ".join(cells) + " |", flush=True)
    fired = [(h.word, h.level, a) for h in heard_others for p in h.pieces if (a := p.after) is not None]
    wrong = [(h.word, h.level, a) for h in said for p in h.pieces if (a := p.after) is not None
             and a[0] not in EXPECTED[h.word]]
    print(f"\nother words and noise firing after: {fired}\ncommands acted on wrongly after: {wrong}")
    print(f"({time.perf_counter() - started:.0f} s)\n")
    if own_voice_s <= 0:
        return
    # The coach's voice alone, long: does anything fire?
    import pickle

    long_voice = coach_voice(own_voice_s)
    print("| coach's voice alone | canceller | seconds | commands fired: before → after |\n|---|---|---|---|")
    for room_name, room in ROOMS.items():
        for level in (0, 12):
            for cancel in cancels:
                name = f"voicecoach-barge-own-{own_voice_s:.0f}-{room.delay_ms}-{level}-{cancel}.pickle"
                cache = Path(tempfile.gettempdir()) / name
                if cache.exists():
                    pieces = pickle.loads(cache.read_bytes())
                else:
                    scene = make_scene(long_voice, None, room, level, 0.0)
                    out = run_capture_path(scene, WebRtcEchoCanceller()).out if cancel else scene.near
                    pieces = loop.hear(out, long_voice)
                    cache.write_bytes(pickle.dumps(pieces))
                alone = replay(Heard("own voice", "", room_name, level, cancel, tuple(pieces), -1.0, -1.0), final,
                               recognizer)
                before = [p.before for p in alone.pieces if p.before is not None]
                after = [p.after for p in alone.pieces if p.after is not None]
                print(f"| {room_name}, {level:+d} dB | {'AEC3' if cancel else 'off'} | {len(long_voice) / SAMPLE_RATE:.0f} "
                      f"| {len(before)} → {len(after)}: {after[:4] or ''} |", flush=True)


def tune_variant(clips: int, levels: list[int], others: int) -> None:
    """The barge-in margins and gap by grid search on the tune half (its barge-in scores computed once)."""
    import itertools
    import pickle

    from voicecoach.guide.library import find_guide
    from voicecoach.live import listening_phrases
    from voicecoach.speech.engine import build_recognizer

    cache = Path(tempfile.gettempdir()) / f"voicecoach-barge-tune-{clips}-{others}-{'_'.join(map(str, levels))}.pickle"
    guide = find_guide(str(GUIDE))
    recognizer = build_recognizer(listening_phrases(guide, None), "whisper", None)
    recognizer.settings = dataclasses.replace(recognizer.settings, barge_in_per_command=3)  # the widest, then filtered
    if cache.exists():
        said, heard_others = pickle.loads(cache.read_bytes())
    else:
        loop = Loop(recognizer, guide)
        played = coach_voice(8.0)
        said = hear_clips(loop, played, [(w, c) for w in EXPECTED for c in people_clips(w, clips, "tune")], levels, [True])
        heard_others = hear_clips(loop, played, [(w, c) for w in OTHER_WORDS for c in people_clips(w, others, "tune")],
                                  levels, [True])
        cache.write_bytes(pickle.dumps((said, heard_others)))
    base = recognizer.settings
    results = []
    for halt, margin, gap, per in itertools.product((0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.6, 2.0), (0.0, 0.2, 0.4, 0.6, 0.9),
                                                    (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.5), (1, 2, 3)):
        settings = dataclasses.replace(base, barge_in_halt_margin=halt, barge_in_margin=margin, barge_in_gap=gap,
                                       barge_in_per_command=per)
        right = sum(outcome(replay(h, settings, recognizer), True) == "right" for h in said)
        fired = sum(outcome(replay(h, settings, recognizer), True) == "fired" for h in heard_others)
        results.append((right - 3 * fired, right, fired, halt, margin, gap, per))
    print(f"tune half: {len(said)} commands, {len(heard_others)} other words and noise (rooms x levels {levels})")
    print(f"before: {sum(outcome(h, False) == 'right' for h in said)} right, "
          f"{sum(outcome(h, False) == 'fired' for h in heard_others)} fired")
    print("| objective (right - 3 x fired) | right | fired | halt margin | margin | gap | phrasings per command |\n"
          "|---|---|---|---|---|---|---|")
    for row in sorted(results, reverse=True)[:15]:
        print("| " + " | ".join(str(x) for x in row) + " |")


def replay(heard: Heard, settings, recognizer) -> Heard:
    """`heard` with each piece's barge-in decision made again by `settings` on its recorded forced scores
    (the recognizer's own choice, barge_in_choice, and the session's confidence floor); unchanged when the
    recognizer records none (not Whisper)."""
    from voicecoach.session import BARGE_IN_INTENTS
    from voicecoach.speech.pipeline import DEFAULT_MIN_CONFIDENCE
    from voicecoach.speech.whisper_engine import BargeInScores, barge_in_choice

    if settings is None or not hasattr(settings, "barge_in_gap"):
        return heard
    pieces = []
    for piece in heard.pieces:
        acted = piece.before
        scores = piece.scores
        if scores is not None:
            kept_settings, recognizer.settings = recognizer.settings, settings
            wanted = recognizer.barge_in_phrases(BARGE_IN_INTENTS)
            recognizer.settings = kept_settings
            keep = [i for i, p in enumerate(scores.phrases) if p in wanted]
            scores = BargeInScores(scores.free, scores.noise, scores.own, scores.free_logprob, scores.no_speech,
                                   tuple(scores.phrases[i] for i in keep), tuple(scores.commands[i] for i in keep),
                                   tuple(scores.scores[i] for i in keep))
            index = barge_in_choice(scores, settings)
            if index is not None and recognizer.calibrate(scores.scores[index], scores.no_speech) >= DEFAULT_MIN_CONFIDENCE:
                acted = (scores.commands[index], scores.phrases[index])
        pieces.append(dataclasses.replace(piece, after=acted))
    return dataclasses.replace(heard, pieces=tuple(pieces))


# -- the live variant -----------------------------------------------------------------------------------

class LiveRoom:
    """A private PulseAudio daemon, the coach's voice looped back into its microphone, a recording of what
    it plays, and `voicecoach run` itself."""

    def __init__(self, base: Path, echo_cancel: str, loopback_volume: int = 100, latency_ms: int = 60,
                 extra: tuple[str, ...] = ()) -> None:
        from voicecoach.testing.pulse import start_pulse

        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.pulse = start_pulse(base)
        module = self.pulse.run("pactl", "load-module", "module-loopback", "source=spk.monitor", "sink=mic",
                                f"latency_msec={latency_ms}").stdout.strip()
        self.loopback = module
        if loopback_volume != 100:
            self._set_loopback_volume(loopback_volume)
        # the daemon's HOME is its own folder: keep the user's cache (encoded examples) so no turn waits for it
        env = {**self.pulse.env, "VOICECOACH_STATE_DIR": str(base / "state"), "VOICECOACH_CONFIG_DIR": str(base / "cfg"),
               "XDG_CACHE_HOME": str(Path.home() / ".cache")}
        from voicecoach.testing.live_coach import LiveCoach

        self.coach = LiveCoach(env, "--guide", str(GUIDE), "--fresh", "--continuous", "--echo-cancel", echo_cancel,
                               *extra)
        from voicecoach.testing.speaker_monitor import Monitor

        self.monitor = Monitor(self.pulse, base / "spk.wav")

    def _set_loopback_volume(self, percent: int) -> None:
        for _ in range(50):
            index = None
            for line in self.pulse.run("pactl", "list", "sink-inputs").stdout.splitlines():
                line = line.strip()
                if line.startswith("Sink Input #"):
                    index = line.split("#")[1]
                elif line == f"Owner Module: {self.loopback}" and index is not None:
                    self.pulse.run("pactl", "set-sink-input-volume", index, f"{percent}%")
                    return
            time.sleep(0.1)
        raise RuntimeError("the loopback's sink input did not appear")

    def close(self) -> str:
        err = self.coach.close()
        self.monitor.recording.stop()
        self.pulse.stop()
        return err


def speech_level(samples: np.ndarray) -> float:
    """RMS of the loud part of speech (frames within 20 dB of the loudest)."""
    frames = [f.astype(np.float64) for f in split_frames(samples) if len(f)]
    levels = np.array([rms(f) for f in frames])
    if not len(levels) or levels.max() <= 0:
        return 0.0
    loud = [f for f, level in zip(frames, levels) if level > levels.max() / 10]
    return rms(np.concatenate(loud))


def scaled_clip(path: Path, target_rms: float, out: Path) -> Path:
    samples = read_wav(path).astype(np.float64)
    samples -= samples.mean()
    samples *= target_rms / max(speech_level(samples.astype(np.int16)), 1e-9)
    write_wav(out, np.clip(samples, -32768, 32767).astype(np.int16))
    return out


def coach_speaking(room: LiveRoom, timeout: float = 30.0) -> bool:
    """Wait until the coach has been speaking for a while (resuming it with a clean "resume" if paused)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if room.monitor.first_sound_after(time.monotonic() - 0.3, 0.5) is not None:
            return True
    return False


def barge_in_trial(room: LiveRoom, clip: Path, expected: set[str], resume: Path) -> tuple[bool, float | None, str]:
    """Play a person's command over the coach; (acted on as expected, latency ms, what was heard)."""
    before = len(room.coach.drain())
    time.sleep(2.5)  # well into a paragraph
    room.pulse.play(clip, wait=True)
    ended = time.monotonic()
    hit = room.coach.wait_for(r"→ (" + "|".join(expected) + r")\b(?!.*ignored)", 6.0)
    lines = room.coach.drain()[before:]
    heard = "; ".join(m.group("text") + "→" + m.group("intent") + (" (ignored)" if "ignored" in m.group("rest") else "")
                      for line in lines if (m := TURN.search(line)))
    latency = None
    if hit is not None:
        room.monitor.wait_covered(ended + 3.0)
        # the turn line is printed as the coach stops its voice; the cut is the first silence from there
        latency = voice_cut_after(room.monitor, ended, max(0.0, hit[0] - ended - 0.15))
        if "pause" in expected or "stop" in expected:
            time.sleep(1.0)
            room.pulse.play(resume, wait=True)  # said into silence: no echo to fight
            room.coach.wait_for(r"→ resume", 8.0)
    elif [line for line in lines if (m := TURN.search(line)) and m.group("intent") in ("pause", "stop")
          and "ignored" not in line]:
        room.pulse.play(resume, wait=True)
    return hit is not None, latency, heard


def voice_cut_after(monitor, ended: float, search_from_s: float) -> float | None:
    """Milliseconds from `ended` (the end of the command) to the coach's voice being cut: the first
    silence of at least 100 ms in what it played, looked for from `search_from_s` after `ended` (just
    before the turn was reported, so that a pause between words earlier is not taken for the cut)."""
    from voicecoach.testing.speaker_monitor import LOUD, RATE

    data = monitor.samples()
    start = max(0, int((ended + search_from_s - monitor.started) * RATE))
    loud = np.abs(data[start:start + 3 * RATE].astype(np.int32)) > LOUD
    window = int(0.1 * RATE)
    run = 0
    for index, value in enumerate(loud):
        run = 0 if value else run + 1
        if run >= window:
            cut = index - window + 1
            return search_from_s * 1000 + cut * 1000 / RATE
    return None


def own_voice_alone(base: Path, seconds: float, volume: int) -> tuple[int, list[str], str]:
    room = LiveRoom(base, "auto", loopback_volume=volume)
    try:
        room.coach.wait_for(r"^coach> Welcome", 60)
        time.sleep(seconds)
        lines = room.coach.drain()
    finally:
        err = room.close()
    fired = [line for line in lines if (m := TURN.search(line)) and m.group("intent") != "none" and "ignored" not in line]
    echo_pieces = sum(1 for line in lines if "(ignored: echo)" in line)
    return len(fired), fired, f"{echo_pieces} pieces dropped as echo by the backstop"


def live_variant(trials: int, levels: list[int], own_voice_s: float, modes: list[str]) -> None:
    base = Path(tempfile.mkdtemp(prefix="voicecoach-barge-"))
    from voicecoach.audio.synth import cached_synthesis

    resume = cached_synthesis("resume", base / "speech", "flite:slt")
    print("| echo cancel | person vs echo | stop acted on | forward acted on | barge-in latency (median, p90) | heard |")
    print("|---|---|---|---|---|---|")
    for mode in modes:
        for level in levels if trials else ():
            room = LiveRoom(base / f"{mode}{level}", mode)
            try:
                assert room.coach.wait_for(r"^coach> Welcome", 60), "the coach did not start"
                time.sleep(3)
                recent = room.monitor.samples()[-3 * 16000:]
                echo_rms = speech_level(recent)  # the loopback is at unity: the echo is what was played
                target = echo_rms / 10 ** (level / 20)
                results: dict[str, list[bool]] = {"stop": [], "forward": []}
                latencies: list[float] = []
                heard_all: list[str] = []
                for index in range(trials):
                    for word in ("stop", "forward"):
                        available = people_clips(word, trials)  # only 2 speakers said "forward": reused
                        clip = available[index % len(available)]
                        scaled = scaled_clip(clip, target, base / f"{word}-{index}-{level}.wav")
                        coach_speaking(room)
                        ok, latency, heard = barge_in_trial(room, scaled, EXPECTED[word], resume)
                        results[word].append(ok)
                        heard_all.append(f"{word}: {heard or '-'}")
                        if ok and word == "stop" and latency is not None:
                            latencies.append(latency)
            finally:
                err = room.close()
            if "Traceback" in err:
                print(err[-3000:], file=sys.stderr)
            lat = (f"{statistics.median(latencies):.0f} ms, {sorted(latencies)[int(0.9 * (len(latencies) - 1))]:.0f} ms"
                   if latencies else "-")
            echo_line = next((line for line in err.splitlines() if "echo cancellation:" in line), "")
            print(f"| {mode} | echo {level:+d} dB | {sum(results['stop'])}/{trials} | {sum(results['forward'])}/{trials} "
                  f"| {lat} | {' / '.join(heard_all)[:400]} |", flush=True)
            if echo_line:
                print(f"|  | {echo_line.replace('|', '/')} | | | | |", flush=True)
    if own_voice_s > 0:
        print("\n| coach's own voice alone (continuous reading, looped back) | seconds | commands fired | backstop |")
        print("|---|---|---|---|")
        for volume, label in ((100, "+0 dB"), (400, "+12 dB (clipped)")):
            count, fired, note = own_voice_alone(base / f"own{volume}", own_voice_s, volume)
            print(f"| loopback {label} | {own_voice_s:.0f} | {count} {fired[:3]} | {note} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wav", action="store_true", help="the room on files (default when --live is not given)")
    parser.add_argument("--live", action="store_true", help="through voicecoach run and PulseAudio devices")
    parser.add_argument("--clips", type=int, default=20, help="WAV variant: clips per word")
    parser.add_argument("--half", choices=("tune", "test", "all"), default="test",
                        help="WAV variant: the speakers (split by a hash of the id before tuning)")
    parser.add_argument("--others", type=int, default=3, help="WAV variant: clips of each other word and of noise")
    parser.add_argument("--cancel", default="on", help="WAV variant: canceller settings to compare (on,off)")
    parser.add_argument("--tune", action="store_true", help="grid search of the barge-in margins on the tune half")
    parser.add_argument("--levels", default="-6,0,6,12", help="echo vs person, dB (comma-separated)")
    parser.add_argument("--trials", type=int, default=10, help="live variant: commands per word and level")
    parser.add_argument("--live-levels", default="0,6,12")
    parser.add_argument("--modes", default="auto,off", help="live variant: --echo-cancel modes to compare")
    parser.add_argument("--own-voice-s", type=float, default=120.0, help="seconds of the coach's own voice alone")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    if args.tune:
        tune_variant(args.clips, levels, args.others)
    elif args.wav or not args.live:
        wav_variant(args.clips, levels, args.half, args.others, args.own_voice_s,
                    [{"on": True, "off": False}[x] for x in args.cancel.split(",")])
    if args.live:
        live_variant(args.trials, [int(x) for x in args.live_levels.split(",")], args.own_voice_s,
                     args.modes.split(","))


if __name__ == "__main__":
    main()
