"""Turning what a recognizer (or a person typing) produced into plain lowercase word tokens."""

from __future__ import annotations

import re
import unicodedata

MAX_TOKENS = 80  # nobody speaks a command longer than this; the rest is ignored for matching

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_NON_WORD = re.compile(r"[^a-z0-9']+")
_DIGIT_LETTER = re.compile(r"(?<=[0-9])(?=[a-z])(?!st\b|nd\b|rd\b|th\b)|(?<=[a-z])(?=[0-9])")


def tokenize(text: str) -> list[str]:
    """Lowercase word tokens; punctuation dropped, apostrophes inside words kept ("what's")."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    text = _DIGIT_LETTER.sub(" ", text)
    words = (w.strip("'") for w in _NON_WORD.split(text))
    return [w for w in words if w][:MAX_TOKENS]


def normalize(text: str) -> str:
    return " ".join(tokenize(text))
