"""`voicecoach demo`: the scripted headless session (see voicecoach/demo.py)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from voicecoach.cli.common import ENGINE_METAVAR, add_guide_option, engine_argument
from voicecoach.guide.library import find_guide


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo", help="a scripted session through the real input and output path, recorded to one WAV",
        description="Synthesizes a listener's commands, sends them through endpointing, the recognizer and "
                    "the coach, and synthesizes the coach's answers. Needs no microphone, speaker or network.")
    demo.add_argument("--out", type=Path, default=Path("voicecoach-demo.wav"),
                      help="where to write the session audio (default: %(default)s)")
    demo.add_argument("--engine", type=engine_argument, metavar=ENGINE_METAVAR, default="auto",
                      help="speech recognizer")
    demo.add_argument("--model", type=Path, help="a Vosk model folder")
    add_guide_option(demo)
    demo.set_defaults(handler=run_demo_command)


def run_demo_command(args: argparse.Namespace) -> int:
    from voicecoach.demo import run_demo
    from voicecoach.speech.engine import build_recognizer
    from voicecoach.understanding.vocabulary import recognizer_phrases

    started = time.monotonic()
    guide = find_guide(args.guide)
    recognizer = build_recognizer(recognizer_phrases(guide), args.engine, args.model)
    print(f"voicecoach demo: {guide.title} ({len(guide.steps)} steps), recognizer: {recognizer.name}\n")
    turns = run_demo(guide, recognizer, args.out, sys.stdout)
    understood = sum(1 for t in turns if t.turn and t.turn.intent.name != "none")
    print(f"{understood} of {len(turns)} listener lines understood; finished in "
          f"{time.monotonic() - started:.1f} s.")
    return 0
