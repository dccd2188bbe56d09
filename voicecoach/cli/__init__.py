"""Command-line entry point: builds the parser from each area's `register` and maps errors to exit codes.

Each area of the product owns one module here (content, understanding, coach, speech, voice, demo)
with a `register(subparsers)` function; subcommands parse arguments, call one function and print.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

from voicecoach import __version__
from voicecoach.errors import VoicecoachError
from voicecoach.memory import tune_allocator

AREAS = ("content", "understanding", "coach", "live", "speech", "voice", "demo", "settings", "doctor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="voicecoach",
        description="An offline, hands-free voice coach: a step-by-step guide as a spoken conversation.",
    )
    parser.add_argument("--version", action="version", version=f"voicecoach {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for area in AREAS:
        importlib.import_module(f"voicecoach.cli.{area}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    tune_allocator()  # before any library starts a thread: fewer malloc arenas, large blocks given back
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except VoicecoachError as error:
        print(f"voicecoach: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"  hint: {error.hint}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
