"""The coach's own words coming back: what it said lately, word by word, with when each word was likely heard.

A loudspeaker's echo that the canceller has not fully removed can be recognised as a command when the coach
itself says one ("Say next or go back to move around" came back as "go back"), or a word of one ("Let's
begin" came back as "begin again"). A command heard while the coach was saying those words, at about that
moment, is its own voice: a one-word command when the coach said that word, a longer one when the coach said
any of its words that carry meaning. Used only while it speaks (or just after), and never for safety: a
crisis statement is always taken."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from voicecoach.understanding.text import tokenize

# Speaking rates between which the coach's voices read (words per second: Piper at its slowest pace about 2,
# espeak-ng at its fastest about 4); a word's moment is estimated within that spread, plus a margin for the
# pauses between sentences and the delay before the first sound.
SLOWEST_WPS = 2.0
FASTEST_WPS = 4.0
MARGIN_S = 1.5
RECENT = 3  # replies remembered: the one playing and the ones just before it
# Words that carry no command by themselves: a command heard in several words counts as an echo when one of its
# other words was being said ("Let's begin" came back as "begin again", start over).
FUNCTION_WORDS = frozenset("a an the to go on of me my it that this please again now then and or i you".split())


@dataclass(frozen=True)
class _Said:
    started_at: float  # time.monotonic() when the reply was handed to the speaker
    words: tuple[str, ...]


class RecentlySaid:
    """The coach's latest replies; `echoes(text, start, end)` tells whether words heard between two moments
    were among the words it was saying then."""

    def __init__(self) -> None:
        self._said: deque[_Said] = deque(maxlen=RECENT)

    def add(self, text: str, started_at: float) -> None:
        self._said.append(_Said(started_at, tuple(tokenize(text))))

    def echoes(self, heard: str, start: float, end: float) -> bool:
        words = tokenize(heard)
        if not words:
            return False
        for said in self._said:
            # the words the coach may have been saying between `start` and `end`, at any of its paces
            first = max(0, int((start - said.started_at - MARGIN_S) * SLOWEST_WPS))
            last = int((end - said.started_at + MARGIN_S) * FASTEST_WPS) + 1
            window = said.words[first:last]
            if _contains(window, words) or (len(words) > 1 and _shares_a_word(window, words)):
                return True
        return False


def _shares_a_word(window: tuple[str, ...], words: list[str]) -> bool:
    return bool(set(words).difference(FUNCTION_WORDS).intersection(window))


def _contains(window: tuple[str, ...], words: list[str]) -> bool:
    n = len(words)
    return any(list(window[at:at + n]) == words for at in range(len(window) - n + 1))
