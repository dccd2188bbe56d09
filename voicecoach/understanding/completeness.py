"""Whether the words heard so far may still grow into a different command ("go back" into "go back to step
three", "stop" into "stop reading"): the live loop then waits for the full pause before it acts, rather
than acting on the first part of a command at a gap inside it. Growing into the same command ("next" into
"next step") does not count: acting early does the same."""

from __future__ import annotations

import sys
from functools import lru_cache

from voicecoach.understanding.catalog import load_catalog
from voicecoach.understanding.text import tokenize

STEPS_AWAY = "steps away"  # the meaning of a counted move ("back two steps"), unlike a plain next or previous


def may_become_another(text: str, intent: str) -> bool:
    """True when the words are the start of a longer catalog phrasing of another intent that adds more than
    filler words ("please", "now", "um")."""
    light = _light_words()
    words = [w for w in tokenize(text) if w not in load_catalog().hesitations]
    while words and words[-1] in light:
        words.pop()
    return bool(_intents_it_may_become().get(tuple(words), frozenset()) - {intent})


@lru_cache(maxsize=1)
def _light_words() -> frozenset[str]:
    catalog = load_catalog()
    return frozenset(catalog.filler_words | catalog.hesitations)


@lru_cache(maxsize=1)
def _intents_it_may_become() -> dict[tuple[str, ...], frozenset[str]]:
    """For every proper start of a catalog phrasing whose rest holds a word that is not filler, the intents of
    the phrasings it starts."""
    catalog = load_catalog()
    phrasings = [*catalog.all_fixed().items(),
                 *((t.phrase, t.intent) for t in (*catalog.slot_templates, *catalog.understood_templates)),
                 *((t.phrase, STEPS_AWAY) for t in catalog.relative_templates),
                 *((p, rule.otherwise) for rule in catalog.contextual for p in rule.phrases)]
    light = _light_words()
    starts: dict[tuple[str, ...], set[str]] = {}
    for phrase, intent in phrasings:
        words = [sys.intern(word) for word in phrase.split()]  # tens of thousands of starts share their words
        for length in range(1, len(words)):
            if any(word not in light for word in words[length:]):
                starts.setdefault(tuple(words[:length]), set()).add(intent)
    shared: dict[frozenset[str], frozenset[str]] = {}  # few distinct sets of intents: one copy of each
    return {start: shared.setdefault(frozenset(intents), frozenset(intents)) for start, intents in starts.items()}
