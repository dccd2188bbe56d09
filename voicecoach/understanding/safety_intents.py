"""From the two safety checks to a safety intent, and whether the coach should ask the listener first.

The patterns (safety.py) go first. A pattern no idiom can cancel acts at once; another pattern's match is
weighed by the meaning layer (semantic_safety.py): when the layer finds the sentence very unlike danger
("she checks my phone all the time ever since i messed up, how long will this go on"), the coach asks
"are you in danger right now?" instead of stopping the guide. A match is never dropped: asking costs a
moment, a missed crisis far more. By meaning alone, likely danger acts at once and possible danger asks.
"""

from __future__ import annotations

from voicecoach.understanding.intents import Intent
from voicecoach.understanding.safety import find_concern
from voicecoach.understanding.semantic_safety import danger_probability, is_likely, semantic_concern

# A pattern's match is disputed when the meaning layer gives the sentence less than this probability of
# danger (chosen on the tuning material: bench/safety_layer.py prints how often each side falls below it).
DISPUTED = 0.10
ASK = {"check": "ask"}


def safety_by_words(text: str, words: list[str]) -> Intent | None:
    """The safety intent when a crisis pattern matches, asking first when the meaning layer disputes it."""
    concern = find_concern(text) if len(words) >= 2 else None
    if concern is None:
        return None
    slots = {"concern": concern.category}
    if not concern.certain and is_disputed(text):
        slots |= ASK
    return Intent("safety", slots, 1.0, text)


def is_disputed(text: str) -> bool:
    """Whether the meaning layer finds the sentence very unlike danger (False without the encoder)."""
    probability = danger_probability(text)
    return probability is not None and probability < DISPUTED


def safety_by_meaning(text: str) -> Intent | None:
    """The safety intent when the meaning layer finds danger possible: at once when likely, else asking."""
    probability = semantic_concern(text)
    if probability is None:
        return None
    slots = {"concern": "meaning"} | ({} if is_likely(probability) else ASK)
    return Intent("safety", slots, probability, text)
