"""The intent contract: the names other tools read, what one understood utterance is, and the dialogue context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

INTENT_NAMES: tuple[str, ...] = (
    "next", "previous", "repeat", "start_over", "goto_step", "pause", "resume", "stop", "help",
    "where_am_i", "overview", "summary", "more", "example", "explain", "question", "slower", "faster",
    "cancel", "yes", "no", "safety", "none",
)


@dataclass(frozen=True)
class DialogueContext:
    """What the matcher may use to read an utterance: where we are and what the coach is doing."""

    step: int | None = None  # 1-based current step, None before the guide starts
    paused: bool = False
    awaiting_confirmation: bool = False  # a yes/no question is pending
    speaking: bool = False  # the coach is talking right now (plain "stop" then means pause)
    last_intent: str | None = None  # what the previous utterance was ("another one" after an example)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> "DialogueContext":
        data = data or {}
        step = data.get("step")
        return cls(
            step=int(step) if isinstance(step, (int, float)) and not isinstance(step, bool) else None,
            paused=bool(data.get("paused", False)),
            awaiting_confirmation=bool(data.get("awaiting_confirmation", False)),
            speaking=bool(data.get("speaking", False)),
            last_intent=data.get("last_intent") if isinstance(data.get("last_intent"), str) else None,
        )


@dataclass(frozen=True)
class Intent:
    """One understood utterance. slots: step (int, 1-based), topic (concept id), text (a free question),
    concern (for safety: the kind of danger heard, a category of safety.yaml), check (for safety: "ask" when
    the danger is possible but not sure, so the coach asks the listener before it stops the guide)."""

    name: str
    slots: Mapping[str, Any] = field(default_factory=dict)
    score: float = 0.0  # 0..1, how sure the matcher is
    text: str = ""

    def __post_init__(self) -> None:
        if self.name not in INTENT_NAMES:
            raise ValueError(f"unknown intent {self.name!r}")

    @property
    def asks_first(self) -> bool:
        """A safety intent whose danger is possible, not sure: the coach asks before giving resources."""
        return self.name == "safety" and self.slots.get("check") == "ask"

    @classmethod
    def none(cls, text: str = "", score: float = 0.0) -> "Intent":
        return cls("none", {}, score, text)
