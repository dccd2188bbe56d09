"""`voicecoach doctor`: check the microphone, speaker, recognizer, voice, echo, disk and settings."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    doctor = subparsers.add_parser(
        "doctor", help="check each link: microphone, speaker, recognizer, voice, echo, disk, settings",
        description="Checks, in under 30 seconds, everything `voicecoach run` needs, with the devices, engine and "
                    "voice of your settings file, and says for each link whether it works and what to do. It plays "
                    "two short phrases and asks you to say \"testing\".")
    doctor.add_argument("--json", action="store_true", help="one JSON object on stdout (for scripts)")
    doctor.add_argument("--no-listen", action="store_true",
                        help="do not ask you to speak (the microphone is still opened and its noise measured)")
    doctor.set_defaults(handler=run_doctor_command)


def run_doctor_command(args: argparse.Namespace) -> int:
    from voicecoach.doctor import run_doctor
    from voicecoach.doctor.report import check_lines

    talk = sys.stderr if args.json else sys.stdout
    print("voicecoach doctor: checking each link (about 15 s) ...", file=talk, flush=True)
    report = run_doctor(listen=not args.no_listen,
                        prompt=lambda text: print(f"  >>> {text}", file=talk, flush=True),
                        progress=lambda check: None if args.json else print("\n".join(check_lines(check)), flush=True))
    print(report.as_json() if args.json else report.verdict(), flush=True)
    return 0 if report.ok else 1
