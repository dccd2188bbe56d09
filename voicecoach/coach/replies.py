"""What the coach says: the Reply value, its Action, and the phrase book (phrases.yaml) it is worded from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Iterable

import yaml

from voicecoach.sentences import split_sentences

PHRASES_PATH = Path(__file__).with_name("phrases.yaml")
# A template's own full stop after a field that already ends a sentence ("Step 2: Why not?.").
_DOUBLE_STOP = re.compile(r"(?<![.])([!?]|(?<![.])\.)\.(?![.])")


class Action(Enum):
    """What the live loop does after speaking a reply."""

    LISTEN = "listen"  # keep listening for the next command
    AWAIT_YES_NO = "await_yes_no"  # a yes/no question is pending
    END = "end"  # the session is over


@dataclass(frozen=True)
class Reply:
    """One turn of the coach: the text to say, split into sentences, what to do next and how fast to speak.

    `sentences` is the unit of speaking: a speaker that is interrupted reports how many it finished
    (Coach.interrupted), so a pause can resume at the exact sentence.
    """

    text: str
    action: Action
    rate: int
    sentences: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.text.strip() or not self.sentences:
            raise ValueError("a reply needs something to say")


@dataclass(frozen=True)
class PhraseBook:
    """The coach's wording, read from a YAML mapping of key → template."""

    templates: dict[str, str]

    def say(self, key: str, **fields: object) -> str:
        """The phrase `key` with its {placeholders} filled in (KeyError for an unknown key: a bug)."""
        text = self.templates[key].format(**fields)
        return _DOUBLE_STOP.sub(r"\1", " ".join(text.split()))

    def sentences(self, text: str) -> tuple[str, ...]:
        return tuple(split_sentences(text))

    def said(self, key: str, **fields: object) -> tuple[str, ...]:
        """The phrase `key`, filled in and split into sentences."""
        return self.sentences(self.say(key, **fields))


def make_reply(sentences: Iterable[str], action: Action, rate: int) -> Reply:
    """A reply that says `sentences` in order."""
    spoken = tuple(s for s in sentences if s.strip())
    return Reply(" ".join(spoken), action, rate, spoken)


@cache
def phrase_book(path: Path = PHRASES_PATH) -> PhraseBook:
    """The phrase book at `path` (the bundled one by default), loaded once."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return PhraseBook({str(k): str(v) for k, v in data.items()})
