"""`voicecoach run`: the live coach (microphone or a recording in, voice or a WAV out). Options left out
come from the settings file (voicecoach.settings), so the kept ones default to None here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from voicecoach.cli.common import ENGINE_METAVAR, add_guide_option, engine_argument
from voicecoach.errors import VoicecoachError
from voicecoach.guide.library import find_guide

if TYPE_CHECKING:
    from voicecoach.live import LiveOptions


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run", help="the live coach: listen, understand, answer aloud",
        description="Microphone → endpointing → recognizer → intents → coach → speaker. Say 'help' at any "
                    "time; 'stop' while the coach speaks pauses it; 'goodbye' ends and saves your place.")
    add_guide_option(run)
    run.add_argument("--input", type=Path, metavar="FILE", help="run on a recording instead of the microphone")
    run.add_argument("--realtime", action="store_true", help="with --input: pace the recording in real time")
    run.add_argument("--wav-out", type=Path, metavar="FILE", help="write what the coach says to a WAV file")
    run.add_argument("--input-device", metavar="NAME_OR_INDEX", help="microphone (see `voicecoach devices`)")
    run.add_argument("--output-device", metavar="NAME_OR_INDEX", help="speaker (see `voicecoach devices`)")
    run.add_argument("--voice", help="text-to-speech voice (see `voicecoach voices`), or a Wyoming server as "
                                     "wyoming://HOST:PORT[/VOICE]")
    run.add_argument("--rate", type=int, help="speaking rate in words per minute (default: the saved rate, else 170)")
    run.add_argument("--volume", type=float, help="speech volume, 0.0 to 1.0 (default: 1.0)")
    run.add_argument("--wake-word", metavar="PHRASE",
                     help='only act on speech that starts with PHRASE, e.g. "hey coach" ("" turns it off)')
    run.add_argument("--continuous", action=argparse.BooleanOptionalAction,
                     help="read the whole guide like an audiobook; any command interrupts")
    run.add_argument("--fresh", action="store_true", help="ignore saved progress")
    run.add_argument("--quiet", action=argparse.BooleanOptionalAction, help="no live status line")
    run.add_argument("--engine", type=engine_argument, metavar=ENGINE_METAVAR,
                     help="speech recognizer (auto: a Vosk model you installed, else Whisper, else PocketSphinx; "
                          "wyoming://HOST:PORT: a Wyoming server on your network, which your voice is sent to)")
    run.add_argument("--model", type=Path, help="a Vosk model folder")
    run.add_argument("--min-confidence", type=float, help="reject transcripts below this confidence (0..1)")
    run.add_argument("--hangover-ms", type=int, metavar="MS",
                     help="silence that ends an utterance (default 360: shorter answers sooner, longer waits "
                          "through pauses inside a command)")
    run.add_argument("--early-ms", type=int, metavar="MS",
                     help="act on a complete command after this much silence rather than the full hangover "
                          "(default 150; 0: always wait the hangover)")
    run.add_argument("--echo-cancel", choices=("auto", "on", "off"),
                     help="cancel the coach's own voice in the microphone, so you can talk over it from a "
                          "loudspeaker (auto, the default: when pywebrtc-audio is installed)")
    run.add_argument("--record", type=Path, metavar="DIR",
                     help="keep every utterance heard as a WAV in DIR (nothing is recorded otherwise)")
    run.set_defaults(handler=run_live)


def run_live(args: argparse.Namespace) -> int:
    from voicecoach.live import run_session
    from voicecoach.settings import apply_settings, load_run_settings

    args = apply_settings(args, load_run_settings())
    options = live_options(args)
    return run_session(find_guide(args.guide), options, sys.stdout)


def live_options(args: argparse.Namespace) -> LiveOptions:
    """The session's options from parsed (and settings-filled) arguments; VoicecoachError for bad ones."""
    from voicecoach.live import LiveOptions

    if args.hangover_ms is not None and not 90 <= args.hangover_ms <= 3000:
        raise VoicecoachError("--hangover-ms must be between 90 and 3000", "360 is the default")
    if args.early_ms is not None and not (args.early_ms == 0 or 60 <= args.early_ms <= 3000):
        raise VoicecoachError("--early-ms must be 0 (off) or between 60 and 3000", "150 is the default")
    if args.realtime and not args.input:
        raise VoicecoachError("--realtime only applies to --input", "drop --realtime, or give --input FILE")
    options = LiveOptions(
        input_path=args.input, realtime=args.realtime, wav_out=args.wav_out, input_device=args.input_device,
        output_device=args.output_device, voice=args.voice, rate=args.rate, volume=args.volume, wake_phrase=args.wake_word,
        continuous=args.continuous, fresh=args.fresh, quiet=args.quiet, engine=args.engine, model=args.model,
        min_confidence=args.min_confidence, record_dir=args.record, hangover_ms=args.hangover_ms,
        early_ms=args.early_ms,
        echo_cancel=getattr(args, "echo_cancel", None) or "auto")
    return options
