"""Reading a step aloud in pieces: its heading and summary, then its body from an exact paragraph and sentence."""

from __future__ import annotations

from dataclasses import dataclass

from voicecoach.coach.replies import PhraseBook
from voicecoach.coach.state import Place, Reading
from voicecoach.guide.model import Guide, Step


@dataclass(frozen=True)
class Passage:
    """What one turn of reading says, which body sentences it holds, and where reading goes on afterwards."""

    sentences: tuple[str, ...]
    reading: Reading | None  # offsets relative to `sentences`
    place: Place


class StepReader:
    """Words for reading one guide with one phrase book."""

    def __init__(self, guide: Guide, book: PhraseBook) -> None:
        self.guide = guide
        self.book = book

    def heading(self, number: int) -> tuple[str, ...]:
        """ "Step 4 of 10: <title>." """
        title = self.guide.step(number).title
        return self.book.said("step_heading", number=number, total=len(self.guide.steps), title=title)

    def opening(self, number: int) -> tuple[str, ...]:
        """The heading and the summary: the first thing said about a step."""
        return (*self.heading(number), *self.book.sentences(self.guide.step(number).summary))

    def valid(self, place: Place) -> Place:
        """`place` if it still exists in the guide, else the start of its step."""
        body = self.guide.step(place.step).body
        if place.paragraph > len(body) or (place.paragraph == len(body) and place.sentence):
            return Place(place.step)
        if place.paragraph < len(body) and place.sentence >= len(self.book.sentences(body[place.paragraph])):
            return Place(place.step)
        return place

    def read_on(self, place: Place) -> Passage:
        """The rest of the paragraph at `place` (with the reflection after the last one), or "step done"."""
        place = self.valid(place)
        step = self.guide.step(place.step)
        if place.paragraph >= len(step.body):
            key = "step_done_last" if self._is_last(step) else "step_done"
            return Passage(self.book.said(key, number=step.number), None, place)
        body = self.book.sentences(step.body[place.paragraph])[place.sentence:]
        reading = Reading(place.paragraph, place.sentence, offset=0, count=len(body))
        after = self._step_end(step) if place.paragraph == len(step.body) - 1 else ()
        return Passage((*body, *after), reading, Place(step.number, place.paragraph + 1))

    def _step_end(self, step: Step) -> tuple[str, ...]:
        reflection = self.book.said("reflection", reflection=step.reflection)
        if self._is_last(step):
            return (*reflection, *self.book.said("go_on_last"))
        return (*reflection, *self.book.said("go_on", next=step.number + 1))

    def _is_last(self, step: Step) -> bool:
        return step.number == len(self.guide.steps)
