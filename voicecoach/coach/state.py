"""The coach's state as values: where the listener is in the guide and what the coach is waiting for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from voicecoach.coach.replies import Reply

MIN_RATE = 100
MAX_RATE = 260
RATE_STEP = 20
DEFAULT_RATE = 170


def clamp_rate(rate: int) -> int:
    """A speaking rate (words per minute) within the bounds the coach uses."""
    return max(MIN_RATE, min(MAX_RATE, int(rate)))


@dataclass(frozen=True)
class Place:
    """An exact place in the guide.

    `paragraph` is the 0-based index of the next body paragraph to read (0: the body has not started;
    len(body): the body has been read); `sentence` is where to start inside that paragraph.
    """

    step: int
    paragraph: int = 0
    sentence: int = 0


class Pending(Enum):
    """The yes/no question the coach is waiting on, if any."""

    NONE = "none"
    RESUME = "resume"  # "Pick up at step 4, <title>?"
    OUTRO = "outro"  # "Would you like the closing words?"
    END = "end"  # "Do you want to stop for today?" (spoken sessions: a misheard "go back" is not a goodbye)
    SAFETY_CHECK = "safety_check"  # "Are you, or is someone with you, in danger right now?" (possible danger)


@dataclass(frozen=True)
class Reading:
    """Which body sentences the last reply read: paragraph `paragraph` from `first_sentence`.

    `offset` is where they start among the reply's sentences and `count` how many there are, so an
    interruption after n spoken sentences maps back to an exact sentence of the paragraph.
    """

    paragraph: int
    first_sentence: int
    offset: int
    count: int


@dataclass(frozen=True)
class CoachState:
    """Everything the coach remembers between two turns."""

    rate: int = DEFAULT_RATE
    place: Place | None = None  # None until the guide has started
    saved: Place | None = None  # the saved place offered by the resume question
    pending: Pending = Pending.NONE
    paused: bool = False
    safety_hold: bool = False  # stopped for safety; only an explicit request goes back to the guide
    example_index: int = 0  # the next example of the current step
    misses: int = 0  # "none" intents in a row
    finished: bool = False  # the closing words have been said
    last_reply: Reply | None = None  # what "repeat" says again
    resumable: bool = False  # an interrupted last_reply keeps its unspoken rest for "resume"
    reading: Reading | None = None  # set when the last reply read body sentences
    leftover: tuple[str, ...] = ()  # the unspoken rest of an interrupted reply (not body text)
    checked_words: str = ""  # what prompted the safety check, answered once the listener says they are safe
