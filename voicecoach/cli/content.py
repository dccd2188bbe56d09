"""`voicecoach content list` and `voicecoach content validate PATH...`."""

from __future__ import annotations

import argparse
import sys

from voicecoach.errors import GuideError
from voicecoach.guide.library import list_guides
from voicecoach.guide.loader import load_guide


def register(subparsers: argparse._SubParsersAction) -> None:
    content = subparsers.add_parser("content", help="list and validate guides")
    actions = content.add_subparsers(dest="content_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the guides found, with their step counts")
    listing.set_defaults(handler=run_list)
    validate = actions.add_parser("validate", help="check guide files; lists every problem")
    validate.add_argument("paths", nargs="+", metavar="PATH")
    validate.set_defaults(handler=run_validate)


def run_list(args: argparse.Namespace) -> int:
    entries = list_guides()
    if not entries:
        print("no guides found")
        return 1
    for entry in entries:
        if entry.guide:
            g = entry.guide
            print(f"{g.id:32} {len(g.steps):3} steps  {g.title}  [{entry.origin}: {entry.path}]")
        else:
            print(f"{entry.path.stem:32} INVALID ({len(entry.error.problems)} problems, "  # type: ignore[union-attr]
                  f"run `voicecoach content validate {entry.path}`)  [{entry.origin}]")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.paths:
        try:
            guide = load_guide(path)
        except GuideError as error:
            failed += 1
            print(f"{path}: INVALID, {len(error.problems)} problem(s)", file=sys.stderr)
            for problem in error.problems:
                print(f"  {problem}", file=sys.stderr)
            continue
        print(f"{path}: OK ({guide.id}, {len(guide.steps)} steps)")
    return 1 if failed else 0
