"""Subcommands of the coach area: `voicecoach chat`, the coach in text mode (optionally spoken)."""

from __future__ import annotations

import argparse
import sys
from typing import Protocol

from voicecoach.cli.common import add_guide_option
from voicecoach.coach.machine import Coach
from voicecoach.coach.progress import ProgressStore
from voicecoach.coach.replies import Action, Reply
from voicecoach.guide.library import find_guide
from voicecoach.understanding.matcher import match_intent

PROMPT = "you> "
REPLY_PREFIX = "coach> "


class Speaker(Protocol):
    """What --speak needs from voicecoach.voice (its Speaker has more)."""

    def speak(self, text: str, rate: int | None = None) -> object: ...

    def close(self) -> None: ...


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "chat", help="talk to the coach by typing what you would say",
        description="Type what you would say to the coach and read its replies. Works with piped input; "
                    "progress is saved when you leave (end of input, Ctrl-C or 'stop').",
    )
    add_guide_option(parser)
    parser.add_argument("--fresh", action="store_true", help="ignore saved progress and start at step 1")
    parser.add_argument("--speak", action="store_true", help="also speak the replies, if a speaker is available")
    parser.set_defaults(handler=run_chat)


def run_chat(args: argparse.Namespace) -> int:
    guide = find_guide(args.guide)
    coach = Coach(guide, progress=ProgressStore(), fresh=args.fresh)
    speaker = _open_speaker() if args.speak else None
    interactive = sys.stdin.isatty()
    try:
        _show(coach.start(), speaker)
        while (line := _read_line(interactive)) is not None:
            if not line.strip():
                continue
            reply = coach.handle(match_intent(line, guide, coach.context))
            _show(reply, speaker)
            if reply.action is Action.END:
                break
    except KeyboardInterrupt:
        coach.save()
        print("", file=sys.stderr)
        return 130
    finally:
        if speaker is not None:
            speaker.close()
    coach.save()
    return 0


def _read_line(interactive: bool) -> str | None:
    """The next typed line, or None at the end of input."""
    if interactive:
        try:
            return input(PROMPT)
        except EOFError:
            print()
            return None
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None


def _show(reply: Reply, speaker: Speaker | None) -> None:
    print(f"{REPLY_PREFIX}{reply.text}", flush=True)
    if speaker is not None:
        speaker.speak(reply.text, reply.rate)


def _open_speaker() -> Speaker | None:
    """The voice module's speaker, or None when there is no output (the voice module prints a notice)."""
    try:
        from voicecoach.voice.factory import open_speaker
        from voicecoach.voice.recorders import TextSpeaker
    except ImportError as error:
        print(f"voicecoach: speech output is not available ({error}); continuing as text", file=sys.stderr)
        return None
    speaker = open_speaker()
    if isinstance(speaker, TextSpeaker):  # no output device: the replies are printed anyway
        speaker.close()
        return None
    return speaker
