"""Splitting spoken prose into sentences, the unit a reply is spoken, interrupted and resumed in."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (optionally followed by closing quotes or brackets) before whitespace and
# a capital letter, a digit or an opening quote.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")


def split_sentences(text: str, abbreviations: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The sentences of `text`, in order, whitespace-normalised; no split after a known abbreviation."""
    text = " ".join(text.split())
    if not text:
        return ()
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start:match.start()].rstrip("\"'”’)]")
        last_word = candidate.rsplit(" ", 1)[-1].lower()
        if last_word in abbreviations:
            continue
        sentences.append(text[start:match.end()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return tuple(s for s in sentences if s)
