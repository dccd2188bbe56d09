"""`voicecoach run`'s options from its flags over the settings file: a flag given wins, else the file's
value, else the built-in default. The first run (no file yet) is told where settings live."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, TextIO

from voicecoach.settings.keys import KEYS
from voicecoach.settings.store import Settings, create_template, read_settings

# What `run` uses when neither a flag nor the file says (the flags' own defaults are None so that a
# flag given can be told from one left out).
BUILT_IN = {"engine": "auto", "volume": 1.0, "continuous": False, "quiet": False}
FIRST_RUN = ("voicecoach: first run: `voicecoach doctor` checks your microphone, speaker, recognizer and "
             "voice; your settings live in {path} (`voicecoach settings set KEY VALUE`)")


def apply_settings(args: argparse.Namespace, settings: Settings) -> argparse.Namespace:
    """A copy of `args` with every option the command line left out taken from `settings`, then from
    the built-in defaults. An empty --wake-word "" turns a wake word from the file off."""
    merged = argparse.Namespace(**vars(args))
    for key in KEYS:
        if getattr(merged, key.dest, None) is None and key.name in settings.values:
            value = settings.values[key.name]
            setattr(merged, key.dest, Path(str(value)).expanduser() if key.kind == "path" else value)
    for dest, value in BUILT_IN.items():
        if getattr(merged, dest, None) is None:
            setattr(merged, dest, value)
    if getattr(merged, "wake_word", None) is not None and not str(merged.wake_word).strip():
        merged.wake_word = None
    return merged


def load_run_settings(warn: Callable[[str], None] | None = None, stream: TextIO | None = None) -> Settings:
    """The settings for a run: a damaged file is kept aside and the defaults used, with one warning; a
    file with some wrong keys or values is used without them, with one warning listing each; with no
    file, one line says how to check the set-up and where settings live (and a commented file is made)."""
    say = warn or (lambda message: print(f"voicecoach: {message}", file=stream or sys.stderr, flush=True))
    settings = read_settings()
    message = settings.warning()
    if message:
        say(message)
    elif settings.state == "absent":
        print(FIRST_RUN.format(path=settings.path), file=stream or sys.stderr, flush=True)
    if settings.state == "absent" or settings.moved_to is not None:
        try:  # a commented file to edit, and no first-run line next time
            create_template(settings.path)
        except OSError:  # a read-only home: the coach runs on its defaults all the same
            pass
    return settings
