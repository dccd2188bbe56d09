"""The phrase catalog (phrases.yaml) in usable form, and the concrete command phrasings for a guide.

The same catalog feeds the intent matcher and the recognizers' grammars (`command_phrases`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


from voicecoach.datafile import packaged_yaml
from voicecoach.guide.model import Guide
from voicecoach.understanding.numbers import number_to_words, ordinal_to_words
from voicecoach.understanding.templates import expand
from voicecoach.understanding.text import normalize

SLOT_MARKERS = ("{n}", "{nth}", "{topic}")


@dataclass(frozen=True)
class ContextRule:
    """Phrasings whose intent depends on the dialogue state."""

    phrases: frozenset[str]
    when: tuple[tuple[str, str], ...]  # (state, intent) in priority order
    otherwise: str


@dataclass(frozen=True)
class SlotTemplate:
    intent: str
    phrase: str  # expanded, still holding {n}, {nth} or {topic}


@dataclass(frozen=True)
class RelativeTemplate:
    """A phrasing that moves a counted number of steps from the current one ("back two steps")."""

    direction: int  # -1 back, +1 forward
    phrase: str  # expanded, holding {n}: the count


@dataclass(frozen=True)
class WrappedCommands:
    """How a command said inside a longer sentence is told apart (phrases.yaml, wrapped)."""

    aside_ends: frozenset[str] = frozenset()
    single_word_after: frozenset[str] = frozenset()
    request_starts: tuple[tuple[str, ...], ...] = ()
    reason_starts: tuple[tuple[str, ...], ...] = ()
    not_for_us: frozenset[str] = frozenset()
    never_wrapped: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Catalog:
    wrappers_start: tuple[tuple[str, ...], ...]  # longest first
    wrappers_end: tuple[tuple[str, ...], ...]
    fixed: dict[str, str]  # phrase -> intent, for phrasings without slots (also in the recognizers' grammars)
    slot_templates: tuple[SlotTemplate, ...]
    contextual: tuple[ContextRule, ...]
    deictic_topics: frozenset[str]
    filler_words: frozenset[str]
    whole_utterance_only: frozenset[str]
    hesitations: frozenset[str] = frozenset()
    spoken_forms: dict[str, tuple[str, ...]] | None = None  # "gimme" -> ("give", "me")
    relative_templates: tuple[RelativeTemplate, ...] = ()
    topic_leads: tuple[tuple[str, ...], ...] = ()  # longest first
    topic_tails: tuple[tuple[str, ...], ...] = ()
    understood: dict[str, str] | None = None  # every fixed phrasing the matcher knows: fixed, then more
    understood_templates: tuple[SlotTemplate, ...] = ()  # every slot template the matcher knows
    wrapped: WrappedCommands = WrappedCommands()
    answer_leads: tuple[tuple[tuple[str, ...], str], ...] = ()  # ("nah",) -> "no", longest first
    answer_max_words: int = 0

    def all_fixed(self) -> dict[str, str]:
        return self.understood if self.understood is not None else self.fixed

    def context_rule(self, phrase: str) -> ContextRule | None:
        return next((rule for rule in self.contextual if phrase in rule.phrases), None)


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The catalog bundled with the package (parsed once)."""
    data = packaged_yaml("voicecoach.understanding", "phrases.yaml")
    fixed, slot_templates = _phrasings(data["intents"])
    more_fixed, more_templates = _phrasings(data.get("understood") or {})
    understood = {**more_fixed, **fixed}
    contextual = tuple(
        ContextRule(
            frozenset(_clean(p) for t in rule["phrases"] for p in expand(t)),
            tuple((state, str(intent)) for state, intent in rule["when"].items()),
            str(rule["otherwise"]),
        )
        for rule in data["contextual"]
    )
    return Catalog(
        wrappers_start=_word_tuples(data["wrappers"]["start"]),
        wrappers_end=_word_tuples(data["wrappers"]["end"]),
        fixed=fixed,
        slot_templates=tuple(slot_templates),
        contextual=contextual,
        deictic_topics=frozenset(normalize(t) for t in data["deictic_topics"]),
        filler_words=frozenset(normalize(w) for w in data["filler_words"]),
        whole_utterance_only=frozenset(data["whole_utterance_only"]),
        hesitations=frozenset(normalize(w) for w in data.get("hesitations", [])),
        spoken_forms={normalize(k): tuple(normalize(v).split()) for k, v in (data.get("spoken_forms") or {}).items()},
        relative_templates=tuple(
            RelativeTemplate(-1 if direction == "back" else 1, _clean(phrase))
            for direction, templates in (data.get("relative_steps") or {}).items()
            for template in templates for phrase in expand(template)
        ),
        topic_leads=_word_tuples(data.get("topic_leads", [])),
        topic_tails=_word_tuples(data.get("topic_tails", [])),
        understood=understood,
        understood_templates=(*slot_templates, *more_templates),
        wrapped=_wrapped(data.get("wrapped") or {}),
        answer_leads=tuple(sorted(((tuple(normalize(str(lead)).split()), str(intent))
                                   for intent, leads in (data.get("answer_leads") or {}).items() for lead in leads),
                                  key=lambda item: -len(item[0]))),
        answer_max_words=int(data.get("answer_max_words", 0)),
    )


def _wrapped(data: dict[str, list[str]]) -> WrappedCommands:
    return WrappedCommands(
        aside_ends=frozenset(normalize(w) for w in data.get("aside_ends", [])),
        single_word_after=frozenset(normalize(w) for w in data.get("single_word_after", [])),
        request_starts=_word_tuples(data.get("request_starts", [])),
        reason_starts=_word_tuples(data.get("reason_starts", [])),
        not_for_us=frozenset(normalize(w) for w in data.get("not_for_us", [])),
        never_wrapped=frozenset(data.get("never_wrapped", [])),
    )


def _phrasings(intents: dict[str, list[str]]) -> tuple[dict[str, str], list[SlotTemplate]]:
    """The fixed phrasings (phrase -> intent) and slot templates of one section of intents."""
    fixed: dict[str, str] = {}
    slot_templates: list[SlotTemplate] = []
    for intent, templates in intents.items():
        for template in templates:
            for phrase in expand(template):
                phrase = _clean(phrase)
                if any(marker in phrase for marker in SLOT_MARKERS):
                    slot_templates.append(SlotTemplate(intent, phrase))
                else:
                    fixed.setdefault(phrase, intent)
    return fixed, slot_templates


def _clean(phrase: str) -> str:
    """Normalise a catalog phrase like an utterance, keeping slot markers intact."""
    return " ".join(w if w in SLOT_MARKERS else normalize(w) for w in phrase.split())


def _word_tuples(phrases: list[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(sorted((tuple(normalize(p).split()) for p in phrases), key=len, reverse=True))


def command_phrases(guide: Guide) -> list[str]:
    """Every concrete command phrasing for this guide: the catalog with its slots filled in.

    Step numbers run from 1 to the guide's length; topics are the guide's concept names and step titles.
    The guide's faq questions are included too, so a listener can ask them in the words written there.
    """
    catalog = load_catalog()
    count = len(guide.steps)
    fills = {
        "{n}": [number_to_words(n) for n in range(1, count + 1)],
        "{nth}": [ordinal_to_words(n) for n in range(1, count + 1)] + ["last", "final"],
        "{topic}": topic_names(guide),
    }
    phrases: dict[str, None] = dict.fromkeys(catalog.fixed)
    for rule in catalog.contextual:
        phrases.update(dict.fromkeys(sorted(rule.phrases)))
    for template in catalog.slot_templates:
        marker = next(m for m in SLOT_MARKERS if m in template.phrase)
        for value in fills[marker]:
            phrases.setdefault(template.phrase.replace(marker, value), None)
    for relative in catalog.relative_templates:
        for count in range(1, 4):
            phrases.setdefault(relative.phrase.replace("{n}", number_to_words(count)), None)
    for step in guide.steps:
        for faq in step.faq:
            phrases.setdefault(normalize(faq.question), None)
    return list(phrases)


def topic_names(guide: Guide) -> list[str]:
    """Spoken names of the guide's concepts, then its step titles, normalised, without duplicates."""
    names = [normalize(name) for _, concept in guide.concepts() for name in concept.names]
    names += [normalize(step.title) for step in guide.steps]
    return list(dict.fromkeys(n for n in names if n))
