"""The recognizer contract: audio of one utterance in, a Transcript (text, calibrated confidence) out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Alternative:
    text: str
    confidence: float


@dataclass(frozen=True)
class Transcript:
    """What was heard. `in_grammar` is False when the recognizer judged the speech not to be a command
    (out-of-grammar words, [unk], noise); `confidence` (0..1) estimates the chance that `text` is what
    was said, measured on real voices (bench/speech.py prints its calibration)."""

    text: str
    confidence: float
    in_grammar: bool
    alternatives: tuple[Alternative, ...] = field(default=())
    engine: str = ""

    @classmethod
    def empty(cls, engine: str = "") -> "Transcript":
        return cls("", 0.0, False, (), engine)


@dataclass(frozen=True)
class Hearing:
    """When an utterance was heard. Over the coach's own voice (`over_voice`) only a few commands count
    (`commands`, intent names): a recognizer may listen harder for them then, or ignore this."""

    over_voice: bool = False
    commands: frozenset[str] = frozenset()


QUIET = Hearing()  # heard while the coach was silent: anything may be said


class Recognizer(Protocol):
    """Decodes one utterance at a time (16 kHz mono int16 samples)."""

    name: str

    def recognize(self, samples: np.ndarray, hearing: Hearing = QUIET) -> Transcript: ...

    def partial(self, samples: np.ndarray) -> str:
        """Best guess so far for audio still being spoken (may be empty)."""
        ...
