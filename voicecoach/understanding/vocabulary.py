"""What the recognizers should be able to hear for a guide: its command phrasings (the catalog with its
slots filled in, and the guide's faq questions) and plain statements of danger (safety.yaml `hear`).

A recognizer bound to a grammar can only transcribe phrases it was given, so a listener saying
"i want to kill myself" to PocketSphinx must find that statement in this list."""

from __future__ import annotations

from voicecoach.guide.model import Guide
from voicecoach.understanding.catalog import command_phrases
from voicecoach.understanding.safety import hearing_phrases


def recognizer_phrases(guide: Guide) -> list[str]:
    """Every phrase a grammar-bound recognizer should hear for this guide, commands first."""
    return list(dict.fromkeys([*command_phrases(guide), *hearing_phrases()]))
