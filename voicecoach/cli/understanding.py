"""Subcommands of the understanding area: `parse` and `ask`."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Filled in by the intents issue."""
