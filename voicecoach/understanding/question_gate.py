"""The question gate: whether an utterance that is no command is a question (or a statement about the
listener's relationship) the guide can answer, before the answerer chooses the step. The words that ask or
speak of the listener are data (questions.yaml); how near the guide the utterance is comes from retrieval."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from voicecoach.datafile import packaged_yaml
from voicecoach.guide.model import Guide
from voicecoach.understanding.answers import FOUND_THRESHOLD, SURE, confidence, guide_index
from voicecoach.understanding.intents import Intent
from voicecoach.understanding.semantic_commands import is_everyday_statement, is_everyday_talk
from voicecoach.understanding.text import normalize

MIN_QUESTION_WORDS = 2  # "what time is it" shares one word with the guide; that is not a question for it
MIN_STATEMENT_WORDS = 4
# A statement that asks nothing ("i always give in and she never does") is for the guide from this
# confidence; one that asks, from FOUND_THRESHOLD. Calibrated on the tuning halves; with words alone (no
# encoder) a statement needs the share of its words the guide answers with, as before.
STATEMENT_THRESHOLD = 0.6
STATEMENT_THRESHOLD_WORDS_ALONE = 0.75
# A count of words and a likeness to everyday talk give way when the guide is sure and the utterance is
# clearly nearer the guide than what it does not cover (its outside margin at most this): "i feel like i
# always give in and she never does" has one content word. "what time is it" is sure by its shared word
# "time" too, but no nearer the guide.
CLEARLY_INSIDE = -0.1
# A statement that holds none of these ("my partner's away at a conference till thursday") and sounds like everyday
# talk by meaning (semantic_commands.is_everyday_statement) is not for the guide.
QUESTION_WORDS = frozenset("what why how when where who which whether".split())


@dataclass(frozen=True)
class _Cues:
    starts: frozenset[str]
    openers: frozenset[str]
    phrases: frozenset[tuple[str, ...]]
    longest: int
    personal: frozenset[str]


@lru_cache(maxsize=1)
def _cues() -> _Cues:
    data = packaged_yaml("voicecoach.understanding", "questions.yaml")
    phrases = frozenset(tuple(str(cue).split()) for cue in data["cues"])
    return _Cues(*(frozenset(str(w) for w in data[key]) for key in ("starts", "openers")), phrases,
                 max(map(len, phrases)), frozenset(str(w) for w in data["personal"]))


def asks_something(words: list[str], text: str) -> bool:
    """Whether the words ask: a question word first (after any openers), a question mark, or words that ask
    wherever they stand ("... should i just tell her")."""
    cues = _cues()
    first = next((w for w in words if w not in cues.openers), "")
    if first in cues.starts or text.rstrip().endswith("?"):
        return True
    return any(tuple(words[at:at + n]) in cues.phrases
               for n in range(2, cues.longest + 1) for at in range(len(words) - n + 1))


def match_question(words: list[str], guide: Guide, text: str) -> Intent:
    """A question the guide can answer; a statement only when it is about the listener's relationship and, when it
    holds no question word, does not sound like everyday talk ("my husband is working late again tonight")."""
    asks = asks_something(words, text) and len(words) >= 3
    personal = len(words) >= MIN_STATEMENT_WORDS and any(w in _cues().personal for w in words)
    if not asks and (not personal or (not QUESTION_WORDS.intersection(words) and is_everyday_statement(text))):
        return Intent.none(text)
    index = guide_index(guide)
    ranking = index.rank(text)
    sure = confidence(ranking)
    needed = FOUND_THRESHOLD if asks else STATEMENT_THRESHOLD if ranking.semantic else STATEMENT_THRESHOLD_WORDS_ALONE
    if ranking.best is None or sure < needed:
        return Intent.none(text, sure)
    clearly_for_guide = sure >= SURE and ranking.semantic and ranking.outside <= CLEARLY_INSIDE
    if not clearly_for_guide and (index.content_word_count(text) < MIN_QUESTION_WORDS or is_everyday_talk(text)):
        return Intent.none(text, sure)
    return Intent("question", {"text": normalize(text)}, round(sure, 3), text)
