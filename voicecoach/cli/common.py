"""Options shared by several subcommands."""

from __future__ import annotations

import argparse


def add_guide_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--guide", metavar="PATH_OR_ID",
        help="a guide file, or the id of a bundled or user guide (default: the only or first guide found)",
    )
