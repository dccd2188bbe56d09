"""The question gate: whether an utterance that is no command is a question (or a statement about the listener's
relationship) the guide can answer, before the answerer chooses the step."""

from __future__ import annotations

from voicecoach.guide.model import Guide
from voicecoach.understanding.answers import FOUND_THRESHOLD, guide_index
from voicecoach.understanding.intents import Intent
from voicecoach.understanding.semantic_commands import is_everyday_talk
from voicecoach.understanding.text import normalize

QUESTION_STARTS = frozenset("why how what when where who which should is are can could do does did will "
                            "would am was were if any".split())
PERSONAL_WORDS = frozenset("i i'm i've my me we we're our us partner".split())
MIN_QUESTION_WORDS = 2  # "what time is it" shares one word with the guide; that is not a question for it


def match_question(words: list[str], guide: Guide, text: str) -> Intent:
    """A question the guide can answer; a statement only when it is about the listener's relationship."""
    asks = words[0] in QUESTION_STARTS or text.rstrip().endswith("?")
    personal = len(words) >= 4 and any(w in PERSONAL_WORDS for w in words)
    if not (asks and len(words) >= 3) and not personal:
        return Intent.none(text)
    index = guide_index(guide)
    if index.content_word_count(text) < MIN_QUESTION_WORDS or is_everyday_talk(text):
        return Intent.none(text)
    passage, score = index.search(text)
    needed = FOUND_THRESHOLD if asks else 0.75
    if passage is None or score < needed:
        return Intent.none(text, score)
    return Intent("question", {"text": normalize(text)}, round(score, 3), text)
