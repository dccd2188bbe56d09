"""Grammars from phrase lists: normalised phrases, Vosk's JSON grammar with [unk], JSGF, and compound
words (a whole phrase as one dictionary entry) for PocketSphinx."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable, Iterable

UNKNOWN = "[unk]"
COMPOUND_PREFIX = "__"
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


def normalize_phrase(phrase: str) -> str:
    """Lowercase words separated by single spaces; anything that is not a word is dropped."""
    return " ".join(_WORD.findall(phrase.lower().replace("’", "'")))


def unique_phrases(phrases: Iterable[str]) -> list[str]:
    """Normalised, non-empty, first-seen order, no duplicates."""
    seen: dict[str, None] = {}
    for phrase in phrases:
        clean = normalize_phrase(phrase)
        if clean:
            seen.setdefault(clean, None)
    return list(seen)


def vosk_grammar(phrases: Iterable[str]) -> str:
    """The JSON list Vosk's KaldiRecognizer takes as a runtime grammar, with [unk] for everything else."""
    return json.dumps([*unique_phrases(phrases), UNKNOWN])


def jsgf_grammar(phrases: Iterable[str], name: str = "commands") -> str:
    """A JSGF grammar accepting exactly the phrases (no rejection path: see sphinx.py for that)."""
    body = " | ".join(f"( {p} )" for p in unique_phrases(phrases))
    return f"#JSGF V1.0;\ngrammar {name};\npublic <command> = {body};\n"


def compound_word(phrase: str) -> str:
    """The dictionary entry standing for a whole phrase: '__next_step'."""
    return COMPOUND_PREFIX + phrase.replace(" ", "_")


def phrase_of(compound: str) -> str | None:
    if not compound.startswith(COMPOUND_PREFIX):
        return None
    return compound[len(COMPOUND_PREFIX):].split("(")[0].replace("_", " ")


@dataclass(frozen=True)
class CompoundEntry:
    phrase: str
    word: str
    pronunciation: str


def compound_entries(phrases: Iterable[str],
                     pronounce: Callable[[str], str | None]) -> tuple[list[CompoundEntry], list[str]]:
    """Compound words with pronunciations from `pronounce(word)`; second: phrases with unknown words."""
    entries: list[CompoundEntry] = []
    unknown: list[str] = []
    for phrase in unique_phrases(phrases):
        phones = [pronounce(word) for word in phrase.split()]
        if all(phones):
            entries.append(CompoundEntry(phrase, compound_word(phrase), " ".join(p for p in phones if p)))
        else:
            unknown.append(phrase)
    return entries, unknown
