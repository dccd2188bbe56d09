"""Wyoming benchmark: recognition and speech from Wyoming servers over loopback against the local engines,
in the same run. Prints a table.

    .venv/bin/python bench/wyoming.py            # 8 commands x 2 synthetic voices x 2 rounds
    .venv/bin/python bench/wyoming.py --rounds 3

It starts wyoming-faster-whisper (the verified tiny.en folder, int8, 2 threads, its default beam of 5)
and wyoming-piper (the verified en_US-joe-medium) on 127.0.0.1, as the tests do. For each command (a
synthetic WAV, endpointed as the live loop does) it measures, with every engine already loaded and warm:
- end of command → transcript: `recognize()` on the utterance (Wyoming: connect, stream, decode, reply);
- first reply audio: the first clip of the reply's first sentence (`synthesize_parts`, what the speaker
  waits for before the device gets sound);
- end of command → first reply audio: the two in a row, as the session runs them.
The reply is the guide's first sentence of the step the command leads to (the same text for every engine).
Rounds alternate the engines so that the machine's other load falls on all of them alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# run as a script, this file's folder comes first on the path, and this file would shadow the wyoming package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voicecoach.audio.synth import cached_synthesis  # noqa: E402
from voicecoach.testing.wyoming_servers import WyomingServer, missing_servers  # noqa: E402
from voicecoach.audio.endpoint import find_utterances  # noqa: E402
from voicecoach.audio.frames import split_frames  # noqa: E402
from voicecoach.audio.wavfile import read_wav  # noqa: E402
from voicecoach.guide.library import find_guide  # noqa: E402
from voicecoach.sentences import split_sentences  # noqa: E402
from voicecoach.speech.pipeline import understand  # noqa: E402
from voicecoach.understanding.catalog import command_phrases  # noqa: E402

COMMANDS = ("next step", "go back", "repeat that", "where am i", "tell me more", "go to step three",
            "give me an example", "start over")
VOICES = ("espeak-ng:en-us", "flite:slt")


def utterance(path: Path):
    found = find_utterances(split_frames(read_wav(path)))
    return max(found, key=lambda u: len(u.samples)).samples


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    problem = missing_servers()
    if problem:
        print(f"cannot run: {problem}")
        return 1

    from voicecoach.speech.engine import whisper_model_folder
    from voicecoach.speech.sphinx import PocketSphinxRecognizer
    from voicecoach.speech.whisper_engine import WhisperRecognizer
    from voicecoach.speech.wyoming_engine import WyomingRecognizer
    from voicecoach.speech.wyoming_link import parse_address
    from voicecoach.voice.piper_engine import PiperSynthesizer
    from voicecoach.voice.synthesizer import VoiceSettings
    from voicecoach.voice.wyoming_voice import WyomingSynthesizer

    guide = find_guide(None)
    phrases = command_phrases(guide)
    cache = Path("/tmp/voicecoach-bench-wyoming")
    cache.mkdir(exist_ok=True)
    cases = [(text, utterance(cached_synthesis(text, cache, voice, None))) for text in COMMANDS for voice in VOICES]
    replies = [split_sentences(" ".join(step.body))[0] for step in guide.steps]

    print("starting wyoming-faster-whisper and wyoming-piper on 127.0.0.1 ...", flush=True)
    asr = WyomingServer("asr").start()
    tts = WyomingServer("tts").start()
    try:
        recognizers = {
            "wyoming (faster-whisper)": WyomingRecognizer(parse_address(asr.uri), phrases, None),
            "whisper (local)": WhisperRecognizer(whisper_model_folder(), phrases),
            "pocketsphinx (local)": PocketSphinxRecognizer(phrases),
        }
        voices = {
            "wyoming (piper joe)": WyomingSynthesizer(parse_address(f"{tts.uri}/en_US-joe-medium"), VoiceSettings(None)),
            "piper joe (local)": PiperSynthesizer(VoiceSettings("piper")),
        }
        for recognizer in recognizers.values():  # warm: the first decode allocates
            recognizer.recognize(cases[0][1])
        heard: dict[str, list[float]] = {name: [] for name in recognizers}
        right: dict[str, int] = {name: 0 for name in recognizers}
        first_audio: dict[str, list[float]] = {name: [] for name in voices}
        chain: dict[str, list[float]] = {"wyoming + wyoming": [], "whisper + piper (local)": []}
        pairs = {"wyoming + wyoming": ("wyoming (faster-whisper)", "wyoming (piper joe)"),
                 "whisper + piper (local)": ("whisper (local)", "piper joe (local)")}
        for round_number in range(args.rounds):
            order = list(recognizers) if round_number % 2 == 0 else list(reversed(recognizers))
            for index, (text, samples) in enumerate(cases):
                reply = replies[index % len(replies)]
                for name in order:
                    started = time.perf_counter()
                    transcript = recognizers[name].recognize(samples)
                    heard[name].append(time.perf_counter() - started)
                    right[name] += understand(transcript, guide).name == understand(
                        type(transcript)(text, 1.0, True), guide).name
                for name in (list(voices) if round_number % 2 == 0 else list(reversed(voices))):
                    started = time.perf_counter()
                    next(iter(voices[name].synthesize_parts(reply)))
                    first_audio[name].append(time.perf_counter() - started)
                for pair, (ears, mouth) in pairs.items():
                    started = time.perf_counter()
                    recognizers[ears].recognize(samples)
                    next(iter(voices[mouth].synthesize_parts(reply)))
                    chain[pair].append(time.perf_counter() - started)
        served = recognizers["wyoming (faster-whisper)"]
        voice = voices["wyoming (piper joe)"]
        assert served.served_locally == 0 and voice.served_locally == 0, "a server failed during the run"

        total = len(cases) * args.rounds
        print(f"\n{len(COMMANDS)} commands x {len(VOICES)} synthetic voices x {args.rounds} rounds over loopback; "
              f"ms, median / 95th percentile (wall clock, this machine's other load included)\n")
        print("| stage | engine | median ms | p95 ms | intents right |")
        print("|---|---|---|---|---|")
        for name, times in heard.items():
            print(f"| end of command → transcript | {name} | {1000 * statistics.median(times):.0f} | "
                  f"{1000 * percentile(times, 0.95):.0f} | {right[name]}/{total} |")
        for name, times in first_audio.items():
            print(f"| reply text → first audio | {name} | {1000 * statistics.median(times):.0f} | "
                  f"{1000 * percentile(times, 0.95):.0f} | |")
        for name, times in chain.items():
            print(f"| end of command → first reply audio | {name} | {1000 * statistics.median(times):.0f} | "
                  f"{1000 * percentile(times, 0.95):.0f} | |")
        gap = statistics.median(chain["wyoming + wyoming"]) - statistics.median(chain["whisper + piper (local)"])
        print(f"\nWyoming minus local, end of command → first reply audio (medians): {1000 * gap:+.0f} ms "
              f"(aim: within 100 ms)")
    finally:
        asr.stop()
        tts.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
