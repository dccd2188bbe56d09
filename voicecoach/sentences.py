"""Splitting prose into sentences: the unit the coach reads, the speaker synthesizes, and a pause resumes at."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

_DATA = Path(__file__).with_name("abbreviations.yaml")

# End punctuation, optional closing quotes/brackets, then whitespace or the end of the text.
_BOUNDARY = re.compile(r"(?:[.!?]+|…)[\"'”’)\]]*(?=\s|$)")
_PARAGRAPH = re.compile(r"\s*\n\s*\n\s*|\s*\n(?=\s*(?:[-*•]|\d+[.)])\s)")
_SPACE = re.compile(r"\s+")
_DOTTED = re.compile(r"^(?:[A-Za-z]\.){2,}$")  # e.g. i.e. U.S. a.m.
_INITIAL = re.compile(r"^[A-Z]\.$")             # J. in "J. Smith"


@lru_cache(maxsize=1)
def _abbreviations() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    data = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    return frozenset(data["titles"]), frozenset(data["before_number"]), frozenset(data["sentence_starters"])


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, in order, whitespace-normalised; blank text gives an empty list.

    Paragraph breaks always end a sentence; "." after an abbreviation, an initial or before a
    lowercase word does not. Digits grouped with spaces ("1 800 799 7233") stay in one sentence.
    """
    sentences: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        sentences.extend(_split_paragraph(_SPACE.sub(" ", paragraph).strip()))
    return sentences


def _split_paragraph(text: str) -> list[str]:
    if not text:
        return []
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        rest = text[match.end():].lstrip()
        if not rest:
            break
        if _continues(text[start:match.start()], match.group(), rest):
            continue
        pieces.append(text[start:match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return [piece for piece in pieces if _speakable(piece)] or ([text] if _speakable(text) else [])


def _continues(before: str, punctuation: str, rest: str) -> bool:
    """True when the punctuation at the end of `before` does not end the sentence."""
    following = rest[0]
    if following.islower() or following in ",;:":
        return True
    if not punctuation.startswith(".") or punctuation.startswith(".."):
        return False  # "!" "?" and an ellipsis before a capital end the sentence
    words = before.split()
    if not words:
        return False
    word = words[-1].lstrip("\"'“‘([") + "."
    bare = word[:-1].lower()
    titles, before_number, _ = _abbreviations()
    if bare in titles or _INITIAL.match(word):
        return True
    if bare in before_number and following.isdigit():
        return True
    return bool(_DOTTED.match(word)) and not following.isdigit() and _next_word_is_name(rest)


def _next_word_is_name(rest: str) -> bool:
    """After "U.S." a capitalised word usually continues the phrase ("the U.S. Army") unless it is "I"."""
    word = rest.split(maxsplit=1)[0].strip("\"'“‘(")
    return word not in _abbreviations()[2]


def _speakable(piece: str) -> bool:
    return any(ch.isalnum() for ch in piece)
