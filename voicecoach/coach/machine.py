"""The Coach: a state machine over a guide that turns an intent into a reply. Pure: no audio, no threads."""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Sequence

from voicecoach.coach.progress import ProgressStore, SavedProgress, progress_for, restore_place
from voicecoach.coach.reading import StepReader
from voicecoach.coach.replies import Action, Reply, make_reply, phrase_book
from voicecoach.coach.state import (
    DEFAULT_RATE, RATE_STEP, CoachState, Pending, Place, Reading, clamp_rate,
)
from voicecoach.guide.model import Concept, Guide, Step
from voicecoach.understanding.answers import answer_question
from voicecoach.understanding.intents import DialogueContext, Intent

# Intents that leave a pending yes/no question in place (the question is asked again after them).
_KEEPS_QUESTION = frozenset({"help", "repeat", "none", "slower", "faster", "where_am_i", "overview", "stop"})


AUDIO_PHRASES = {("speaker", False): "audio_lost_speaker", ("microphone", False): "audio_lost_microphone",
                 ("speaker", True): "audio_back_speaker", ("microphone", True): "audio_back_microphone"}


# Besides reading on, the commands whose replies are made ahead, most asked first: their first sentence needs
# a neural voice a few hundred milliseconds otherwise (bench/latency.py --verbose shows it per reply).
ASKED_MID_STEP = ("previous", "summary", "example", "where_am_i", "slower", "faster")
# After a change of pace, the opposite change is the likeliest correction ("slower" overshot): made ahead first.
OPPOSITE_PACE = {"slower": "faster", "faster": "slower"}


class Coach:
    """Dialogue over one guide: `start()` once, then `handle(intent)` per utterance; progress saved as it goes."""

    def __init__(self, guide: Guide, *, progress: ProgressStore | None = None, fresh: bool = False,
                 rate: int | None = None, confirm_end: bool = False) -> None:
        """`confirm_end`: ask before ending the session (for speech, where "go back" can be heard as
        "goodbye"; typed commands end at once)."""
        self.guide = guide
        self._confirm_end = confirm_end
        self._store = progress
        self._fresh = fresh
        self._rate_given = rate is not None
        self._book = phrase_book()
        self._reader = StepReader(guide, self._book)
        self._state = CoachState(rate=clamp_rate(rate if rate is not None else DEFAULT_RATE))
        self._last_saved: SavedProgress | None = None
        self._last_intent: str | None = None
        self._handlers: dict[str, Callable[[Intent], Reply]] = {
            "next": self._next, "previous": self._previous, "goto_step": self._goto_step,
            "start_over": self._start_over, "more": self._more, "resume": self._resume, "pause": self._pause,
            "repeat": self._repeat, "summary": self._summary, "where_am_i": self._where_am_i,
            "overview": self._overview, "help": self._help, "slower": self._slower, "faster": self._faster,
            "cancel": self._cancel, "stop": self._stop, "question": self._question, "explain": self._explain,
            "example": self._example, "safety": self._safety, "none": self._none,
            "yes": self._unasked, "no": self._unasked,
        }

    # -- the public contract ------------------------------------------------------------------------

    @property
    def state(self) -> CoachState:
        return self._state

    @property
    def context(self) -> DialogueContext:
        """What the intent matcher may use: the step, and whether we are paused or awaiting a yes/no."""
        s = self._state
        return DialogueContext(step=s.place.step if s.place else None, paused=s.paused,
                               awaiting_confirmation=s.pending is not Pending.NONE, speaking=False,
                               last_intent=self._last_intent)

    def start(self) -> Reply:
        """The opening turn: the intro and step 1, or (with saved progress) "Pick up at step N?"."""
        self._state = CoachState(rate=self._state.rate)
        notice: list[str] = []
        saved = None
        if self._store is not None and not self._fresh:
            loaded = self._store.load(self.guide.id)
            if loaded.problem:
                notice += self._book.said("progress_unreadable")
            saved = loaded.progress
        if saved is not None:
            if not self._rate_given:
                self._update(rate=clamp_rate(saved.rate))
            if not saved.finished:
                restored = restore_place(self.guide, saved)
                place = self._reader.valid(restored.place)
                if loaded.older_format:
                    notice += self._book.said("progress_older_format", number=place.step)
                elif restored.changed:
                    notice += self._book.said("guide_changed", number=place.step)
                if place != Place(1):
                    self._update(pending=Pending.RESUME, saved=place)
                    return self._say([*self._book.said("welcome_back", guide_title=self.guide.title),
                                      *notice, *self._question_text()])
        return self._begin(notice)

    def handle(self, intent: Intent) -> Reply:
        """The reply to one understood utterance."""
        if self._state.place is None and self._state.pending is not Pending.RESUME:
            raise RuntimeError("Coach.start() must be called before Coach.handle()")
        if intent.name != "none":
            self._update(misses=0)
        reply = self._answer_pending(intent) if self._state.pending is not Pending.NONE else None
        if reply is None:
            reply = self._handlers[intent.name](intent)
        self._last_intent = intent.name
        self._autosave()
        return reply

    def reading_on(self) -> str:
        """The intent that reads on from here: "more" of the step, or the "next" step at its end."""
        place = self._state.place
        if place is None:
            return "next"
        return "next" if place.paragraph >= len(self.guide.step(place.step).body) else "more"

    def likely_openings(self) -> list[tuple[str, int]]:
        """The first sentence of each reply likely to come next (reading on first, then what listeners ask most
        mid-step), with the rate it is said at, for speech made ahead; empty before the coach has started."""
        correction = OPPOSITE_PACE.get(self._last_intent or "")
        order = (*([correction] if correction else []), self.reading_on(),
                 "more" if self.reading_on() == "next" else "next", *ASKED_MID_STEP)
        previews = [self.preview(Intent(name, {}, 1.0, "(ahead)")) for name in order]
        return list(dict.fromkeys((p.sentences[0], p.rate) for p in previews if p is not None and p.sentences))

    def preview(self, intent: Intent) -> Reply | None:
        """The reply `intent` would get now, with nothing changed or saved (so its speech can be made
        ahead); None when there is no place yet or the intent has no reply here."""
        if self._state.place is None:
            return None
        state, last_intent, store = self._state, self._last_intent, self._store
        self._store = None  # a preview is never saved
        try:
            return self.handle(intent)
        except (RuntimeError, ValueError, KeyError):
            return None
        finally:
            self._state, self._last_intent, self._store = state, last_intent, store

    def interrupted(self, sentences_spoken: int) -> None:
        """The last reply was cut off after `sentences_spoken` sentences: keep the exact place."""
        s = self._state
        if s.last_reply is None:
            return
        spoken = max(0, min(sentences_spoken, len(s.last_reply.sentences)))
        if s.reading is not None and s.place is not None:
            heard = max(0, min(spoken - s.reading.offset, s.reading.count))
            if heard < s.reading.count:
                place = Place(s.place.step, s.reading.paragraph, s.reading.first_sentence + heard)
                self._update(place=place, leftover=(), reading=None)
        elif s.resumable and spoken < len(s.last_reply.sentences):
            self._update(leftover=s.last_reply.sentences[spoken:])
        self._autosave()

    def audio_changed(self, role: str, available: bool) -> Reply:
        """A microphone or speaker ("microphone"/"speaker") went away or came back. Losing either pauses
        the guide (a listener who cannot hear or be heard should not miss anything); the place is kept,
        and "resume" carries on once the device is back. Not remembered for "repeat"."""
        if not available:
            if self._state.place is not None and not self._state.safety_hold:
                self._update(paused=True)
            self._autosave()
            return self._say(self._book.said(AUDIO_PHRASES[role, False]), remember=False)
        hint = self._book.said("audio_resume_hint") if self._state.paused else ()
        return self._say([*self._book.said(AUDIO_PHRASES[role, True]), *hint], remember=False)

    def save(self) -> bool:
        """Write the current place and rate to the progress store (True if saved or nothing to save)."""
        s = self._state
        if self._store is None or s.place is None:
            return True
        progress = progress_for(self.guide, s.place, s.rate, s.finished)
        ok = self._store.save(progress)
        if ok:
            self._last_saved = progress
        return ok

    # -- helpers ----------------------------------------------------------------------------------

    def _update(self, **changes: object) -> None:
        self._state = dataclasses.replace(self._state, **changes)  # type: ignore[arg-type]

    def _autosave(self) -> None:
        s = self._state
        if self._store is not None and s.place is not None:
            if progress_for(self.guide, s.place, s.rate, s.finished) != self._last_saved:
                self.save()

    def _say(self, sentences: Iterable[str], *, reading: Reading | None = None, resumable: bool = False,
             remember: bool = True, action: Action | None = None) -> Reply:
        """A reply at the current rate. `remember`: "repeat" says it again; `resumable`: an interruption
        keeps its unspoken rest for "resume" (body text is tracked more exactly through `reading`)."""
        if action is None:
            action = Action.AWAIT_YES_NO if self._state.pending is not Pending.NONE else Action.LISTEN
        reply = make_reply(sentences, action, self._state.rate)
        if remember:
            self._update(last_reply=reply, reading=reading, resumable=resumable)
        return reply

    def _split(self, text: str) -> tuple[str, ...]:
        return self._book.sentences(text)

    @property
    def _step(self) -> Step:
        assert self._state.place is not None
        return self.guide.step(self._state.place.step)

    def _question_text(self) -> tuple[str, ...]:
        s = self._state
        if s.pending is Pending.RESUME and s.saved is not None:
            return self._book.said("resume_question", number=s.saved.step, title=self.guide.step(s.saved.step).title)
        if s.pending is Pending.OUTRO:
            return self._book.said("outro_question")
        if s.pending is Pending.END:
            return self._book.said("end_question")
        if s.pending is Pending.SAFETY_CHECK:
            return self._book.said("safety_check_question")
        return ()

    def _names(self, concepts: tuple[Concept, ...]) -> str:
        names = [c.names[0] for c in concepts]
        if len(names) < 2:
            return "".join(names)
        or_word = self._book.say("or_word")
        return f"{', '.join(names[:-1])} {or_word} {names[-1]}"

    # -- reading -----------------------------------------------------------------------------------

    def _begin(self, notice: Sequence[str]) -> Reply:
        self._update(place=Place(1), pending=Pending.NONE, saved=None)
        return self._say([*notice, *self._split(self.guide.intro), *self._reader.opening(1),
                          *self._book.said("start_hint")], resumable=True)

    def _read_step(self, number: int, prefix: tuple[str, ...] = ()) -> Reply:
        """Move to a step and read its title and summary."""
        self._update(place=Place(number), paused=False, safety_hold=False, leftover=(), example_index=0,
                     finished=False, pending=Pending.NONE, saved=None)
        return self._say([*prefix, *self._reader.opening(number)], resumable=True)

    def _continue(self, prefix: Sequence[str]) -> Reply:
        """Read on from the current place: the rest of the paragraph, or say the step is done."""
        assert self._state.place is not None
        passage = self._reader.read_on(self._state.place)
        reading = passage.reading
        if reading is not None:
            reading = dataclasses.replace(reading, offset=reading.offset + len(prefix))
        self._update(place=passage.place, paused=False, safety_hold=False, leftover=())
        return self._say([*prefix, *passage.sentences], reading=reading)

    # -- yes/no questions ------------------------------------------------------------------------

    def _answer_pending(self, intent: Intent) -> Reply | None:
        s = self._state
        name = intent.name
        if s.pending is Pending.END:
            return self._answer_end(name)
        if s.pending is Pending.SAFETY_CHECK:
            return self._answer_safety_check(intent)
        if s.pending is Pending.RESUME and name == "resume":
            name = "yes"
        if s.pending is Pending.RESUME and name in ("start_over", "cancel"):
            name = "no"
        if name == "yes":
            return self._accept_resume() if s.pending is Pending.RESUME else self._outro()
        if name == "no":
            if s.pending is Pending.RESUME:
                self._update(pending=Pending.NONE, saved=None)
                return self._begin(self._book.said("resume_declined"))
            self._update(pending=Pending.NONE)
            return self._say(self._book.said("outro_declined"))
        if name == "cancel":
            self._update(pending=Pending.NONE)
            return self._say(self._book.said("cancel_question"))
        if name in _KEEPS_QUESTION:
            reply = self._handlers[name](intent)
            if reply.action is not Action.AWAIT_YES_NO or name == "help":
                return reply
            question = self._question_text()
            if reply.sentences[-len(question):] == question:
                return reply
            return self._say([*reply.sentences, *question], remember=name != "none")
        # Anything else drops the question; "next" after "Pick up at step 4?" means: from step 4.
        if s.pending is Pending.RESUME:
            self._update(place=s.saved)
        self._update(pending=Pending.NONE, saved=None)
        return None

    def _answer_end(self, name: str) -> Reply | None:
        """The answer to "Do you want to stop for today?"; None lets another command through."""
        if name in ("yes", "stop"):
            self._update(pending=Pending.NONE)
            return self._goodbye()
        if name in ("no", "cancel", "resume"):
            self._update(pending=Pending.NONE)
            return self._say(self._book.said("end_declined"), remember=False)
        if name in ("help", "none"):
            return self._handlers[name](Intent(name))
        if name == "repeat":
            return self._say(self._question_text(), remember=False)
        self._update(pending=Pending.NONE)
        return None

    def _answer_safety_check(self, intent: Intent) -> Reply | None:
        """The answer to "are you in danger right now?"; None lets another command through. Safe: what prompted
        the question is answered from the guide when the guide answers it (a question, or hurt the guide speaks to)."""
        s, name = self._state, intent.name
        if name in ("yes", "safety", "help"):
            self._update(pending=Pending.NONE, checked_words="")
            return self._safety_resources()
        if name in ("no", "cancel"):
            answer = answer_question(self.guide, s.checked_words, self.context) if s.checked_words else None
            self._update(pending=Pending.NONE, checked_words="")
            if answer is not None and answer.found:  # what they said still deserves its answer
                return self._say([*self._book.said("safety_check_then_answer"), *self._split(answer.text)],
                                 resumable=True)
            return self._say(self._book.said("safety_check_declined"))
        if name in ("none", "repeat"):
            return self._say(self._question_text(), remember=False)
        self._update(pending=Pending.NONE, checked_words="")
        return None

    def _accept_resume(self) -> Reply:
        place = self._state.saved
        assert place is not None
        self._update(place=place, pending=Pending.NONE, saved=None)
        if place == Place(place.step):
            return self._say(self._reader.opening(place.step), resumable=True)
        return self._continue([*self._reader.heading(place.step), *self._book.said("resume_accepted")])

    def _outro(self) -> Reply:
        self._update(pending=Pending.NONE, finished=True)
        return self._say([*self._split(self.guide.outro), *self._book.said("outro_after")], resumable=True)

    # -- one method per intent -----------------------------------------------------------------------

    def _next(self, intent: Intent) -> Reply:
        number = self._step.number
        if number < len(self.guide.steps):
            return self._read_step(number + 1)
        self._update(pending=Pending.OUTRO, paused=False, safety_hold=False)
        return self._say([*self._book.said("last_step"), *self._question_text()])

    def _previous(self, intent: Intent) -> Reply:
        number = self._step.number
        if number > 1:
            return self._read_step(number - 1)
        return self._say(self._book.said("first_step"))

    def _goto_step(self, intent: Intent) -> Reply:
        total = len(self.guide.steps)
        number = intent.slots.get("step")
        if not isinstance(number, int) or isinstance(number, bool):
            return self._say(self._book.said("which_step", total=total))
        if not 1 <= number <= total:
            return self._say(self._book.said("out_of_range", total=total))
        return self._read_step(number)

    def _start_over(self, intent: Intent) -> Reply:
        return self._read_step(1, self._book.said("start_over"))

    def _more(self, intent: Intent) -> Reply:
        return self._continue([])

    def _resume(self, intent: Intent) -> Reply:
        s = self._state
        if s.safety_hold:
            return self._continue(self._book.said("back_to_guide"))
        if s.paused and s.leftover:
            self._update(paused=False, leftover=())
            return self._say([*self._book.said("continuing_reply"), *s.leftover])
        if s.paused:
            return self._continue(self._book.said("continuing", number=self._step.number))
        return self._continue([])

    def _pause(self, intent: Intent) -> Reply:
        if self._state.paused:
            return self._say(self._book.said("still_paused"))
        self._update(paused=True)
        return self._say(self._book.said("paused"))

    def _repeat(self, intent: Intent) -> Reply:
        last = self._state.last_reply
        assert last is not None  # start() always says something
        return self._say(last.sentences, reading=self._state.reading, resumable=self._state.resumable)

    def _summary(self, intent: Intent) -> Reply:
        return self._say(self._book.said("summary", summary=self._step.summary), resumable=True)

    def _where_am_i(self, intent: Intent) -> Reply:
        s = self._state
        if s.place is None:
            return self._say(self._book.said("where_not_started"))
        extra = self._book.said("where_paused") if s.paused else ()
        return self._say([*self._reader.heading(s.place.step), *extra])

    def _overview(self, intent: Intent) -> Reply:
        out = list(self._book.said("overview_head", total=len(self.guide.steps)))
        for step in self.guide.steps:
            out += self._book.said("overview_item", number=step.number, title=step.title)
        return self._say([*out, *self._book.said("overview_tail")], resumable=True)

    def _help(self, intent: Intent) -> Reply:
        s = self._state
        if s.pending is not Pending.NONE:
            return self._say(self._book.said("help_question", question=" ".join(self._question_text())))
        step = self._step
        if s.safety_hold:
            key = "help_safety"
        elif s.paused:
            key = "help_paused"
        elif s.finished:
            key = "help_finished"
        elif s.place is not None and s.place.paragraph >= len(step.body):
            key = "help_last_step" if step.number == len(self.guide.steps) else "help_step_end"
        else:
            key = "help_listening"
        return self._say(self._book.said(key))

    def _slower(self, intent: Intent) -> Reply:
        return self._change_rate(-RATE_STEP, "slower", "slowest")

    def _faster(self, intent: Intent) -> Reply:
        return self._change_rate(RATE_STEP, "faster", "fastest")

    def _change_rate(self, delta: int, done: str, limit: str) -> Reply:
        rate = clamp_rate(self._state.rate + delta)
        key = limit if rate == self._state.rate else done
        self._update(rate=rate)
        return self._say(self._book.said(key))

    def _cancel(self, intent: Intent) -> Reply:
        return self._say(self._book.said("cancel_nothing"))

    def _stop(self, intent: Intent) -> Reply:
        s = self._state
        if self._confirm_end and s.pending is Pending.NONE and s.place is not None:
            self._update(pending=Pending.END)
            return self._say(self._question_text(), remember=False)
        return self._goodbye()

    def _goodbye(self) -> Reply:
        """Save, say goodbye, and end the session."""
        s = self._state
        self.save()
        if s.place is None:
            key, fields = "goodbye_not_started", {}
        elif s.finished:
            key, fields = "goodbye_finished", {}
        else:
            key, fields = "goodbye", {"number": s.place.step, "title": self._step.title}
        return self._say(self._book.said(key, **fields), action=Action.END)

    def _question(self, intent: Intent) -> Reply:
        text = str(intent.slots.get("text") or intent.text)
        answer = answer_question(self.guide, text, self.context)
        if not answer.found:
            names = self._names(self._step.concepts)
            return self._say(self._book.said("answer_missing", names=names))
        return self._say(self._split(answer.text), resumable=True)  # the answer names its step

    def _explain(self, intent: Intent) -> Reply:
        topic = intent.slots.get("topic")
        if topic:
            found = self.guide.concept(str(topic))
            if found is None:
                names = self._names(self._step.concepts)
                return self._say(self._book.said("explain_unknown", names=names))
            step, concept = found
        else:
            step, concept = self._step, self._step.main_concept
        out = list(self._book.said("explain", name=concept.names[0], explanation=concept.explanation))
        if step.number != self._step.number:
            out += self._book.said("explain_elsewhere", number=step.number, title=step.title)
        return self._say(out, resumable=True)

    def _example(self, intent: Intent) -> Reply:
        examples = self._step.examples
        if not examples:
            return self._say(self._book.said("no_examples"))
        index = self._state.example_index % len(examples)
        self._update(example_index=index + 1)
        return self._say(self._book.said("example", example=examples[index]), resumable=True)

    def _safety(self, intent: Intent) -> Reply:
        if intent.asks_first:  # possible danger, not sure: ask before stopping the guide
            self._update(pending=Pending.SAFETY_CHECK, checked_words=intent.text)
            return self._say(self._question_text())
        return self._safety_resources()

    def _safety_resources(self) -> Reply:
        safety = self.guide.safety
        self._update(paused=True, safety_hold=True)
        out = [*self._split(safety.message)]
        for line in safety.resources:
            out += self._split(line)
        return self._say([*out, *self._book.said("safety_hold")])

    def _none(self, intent: Intent) -> Reply:
        misses = self._state.misses + 1
        self._update(misses=misses)
        if misses >= 2:
            key = "not_caught_again"
        else:
            key = "not_caught_question" if self._state.pending is not Pending.NONE else "not_caught"
        return self._say(self._book.said(key), remember=False)

    def _unasked(self, intent: Intent) -> Reply:
        return self._say(self._book.said("no_question"))
