"""Options shared by several subcommands."""

from __future__ import annotations

import argparse


def add_guide_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--guide", metavar="PATH_OR_ID",
        help="a guide file, or the id of a bundled or user guide (default: the only or first guide found)",
    )


ENGINE_METAVAR = "{auto,whisper,vosk,pocketsphinx,wyoming://HOST:PORT}"


def engine_argument(text: str) -> str:
    """--engine's value: one of the local engines or a Wyoming server's wyoming://HOST:PORT."""
    from voicecoach.errors import ModelError
    from voicecoach.speech.engine import check_engine

    try:
        return check_engine(text)
    except ModelError as error:
        raise argparse.ArgumentTypeError(f"{error.message} ({error.hint})") from None


def configured(key: str, given: str | None) -> str | None:
    """A run option for listings: the flag if given, else the settings file's value (None if neither)."""
    if given:
        return given
    from voicecoach.settings.store import read_settings

    value = read_settings().values.get(key)
    return str(value) if value is not None else None
