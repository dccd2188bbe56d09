"""The guide as values: Guide, Step, Concept, Faq and Safety (frozen dataclasses, built by the loader)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Concept:
    """An idea the listener can ask about ("explain listening"); the first concept of a step is its main one."""

    id: str
    aliases: tuple[str, ...]
    explanation: str

    @property
    def names(self) -> tuple[str, ...]:
        """Every way to say it: the id with spaces for underscores, then the aliases."""
        return (self.id.replace("_", " "), *self.aliases)


@dataclass(frozen=True)
class Faq:
    question: str
    answer: str


@dataclass(frozen=True)
class Step:
    number: int
    id: str
    title: str
    summary: str
    body: tuple[str, ...]
    concepts: tuple[Concept, ...]
    examples: tuple[str, ...]
    faq: tuple[Faq, ...]
    reflection: str

    @property
    def main_concept(self) -> Concept:
        return self.concepts[0]


@dataclass(frozen=True)
class Safety:
    """What the coach says when the listener describes danger, abuse or self-harm."""

    message: str
    resources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guide:
    id: str
    title: str
    language: str
    intro: str
    outro: str
    safety: Safety
    steps: tuple[Step, ...]
    source_path: str = ""
    content_hash: str = field(default="", compare=False)

    def step(self, number: int) -> Step:
        """The step with this 1-based number (IndexError when out of range)."""
        if not 1 <= number <= len(self.steps):
            raise IndexError(number)
        return self.steps[number - 1]

    def concepts(self) -> tuple[tuple[Step, Concept], ...]:
        """Every concept with the step it belongs to, in guide order."""
        return tuple((step, concept) for step in self.steps for concept in step.concepts)

    def concept(self, concept_id: str) -> tuple[Step, Concept] | None:
        for step, concept in self.concepts():
            if concept.id == concept_id:
                return step, concept
        return None
