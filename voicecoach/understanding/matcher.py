"""From an utterance's words to one intent with its slots, using the phrase catalog and the dialogue context.

Order of decisions: safety first (its patterns); then the utterance (with wrapper words such as "um" or "please" dropped
from its ends) is looked up exactly, as a slot template, and fuzzily against the catalog; then safety by meaning (when the sentence encoder is installed); then as a question
the guide can answer; everything else is `none`. A false command is worse than a polite "sorry?".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from rapidfuzz import fuzz, process

from voicecoach.guide.model import Guide
from voicecoach.understanding.answers import FOUND_THRESHOLD, guide_index
from voicecoach.understanding.catalog import Catalog, ContextRule, load_catalog, topic_names
from voicecoach.understanding.intents import DialogueContext, Intent
from voicecoach.understanding.numbers import LAST, read_number, read_ordinal
from voicecoach.understanding.per_guide import per_guide
from voicecoach.understanding.safety import find_concern
from voicecoach.understanding.semantic_safety import semantic_concern
from voicecoach.understanding.text import normalize, tokenize

FUZZY_CUTOFF = 88.0  # rapidfuzz ratio (0..100) for a near-exact phrasing ("nex step")
SHORT_FUZZY_CUTOFF = 93.0  # phrasings under 8 characters need to be closer ("stap" is not "stop")
TOPIC_CUTOFF = 80.0
QUESTION_STARTS = frozenset("why how what when where who which should is are can could do does did will "
                            "would am was were if any".split())
PERSONAL_WORDS = frozenset("i i'm i've my me we we're our us partner".split())
TOPIC_LEAD_WORDS = ("the", "a", "an", "word", "term", "concept", "idea", "of", "about", "this", "that")
TOPIC_TAIL_WORDS = ("mean", "means", "again", "please", "is", "exactly", "really")
STEP_WORDS = frozenset({"step", "number"})
MAX_FILLER_SPAN_WORDS = 16
MIN_QUESTION_WORDS = 2  # "what time is it" shares one word with the guide; that is not a question for it


@dataclass(frozen=True)
class _GuideTerms:
    """Per-guide lookups: spoken names of concepts and steps."""

    concept_by_name: dict[str, str]  # normalised name -> concept id
    step_by_title: dict[str, int]
    names: tuple[str, ...]


def _guide_terms(guide: Guide) -> _GuideTerms:
    concept_by_name: dict[str, str] = {}
    for _, concept in guide.concepts():
        for name in concept.names:
            concept_by_name.setdefault(normalize(name), concept.id)
    step_by_title = {normalize(step.title): step.number for step in guide.steps}
    return _GuideTerms(concept_by_name, step_by_title, tuple(topic_names(guide)))


guide_terms = per_guide(_guide_terms)


@dataclass(frozen=True)
class _CompiledCatalog:
    """The catalog in the forms the matcher looks things up by."""

    catalog: Catalog
    slot_phrases: dict[str, str]  # "go to step {n}" -> goto_step
    topic_patterns: tuple[tuple[str, re.Pattern[str]], ...]
    fuzzy_choices: tuple[str, ...]
    fuzzy_intents: tuple[str, ...]  # an intent name, or "@rule" for a context rule


def _compile(catalog: Catalog) -> _CompiledCatalog:
    slot_phrases: dict[str, str] = {}
    topic_patterns = []
    for template in catalog.slot_templates:
        if "{topic}" in template.phrase:
            regex = re.escape(template.phrase).replace(re.escape("{topic}"), "(?P<topic>.+?)")
            topic_patterns.append((template.intent, re.compile(f"^{regex}$")))
        else:
            slot_phrases.setdefault(template.phrase, template.intent)
    choices = dict(catalog.fixed)
    for phrase, intent in slot_phrases.items():
        choices.setdefault(phrase, intent)
    for rule in catalog.contextual:
        for phrase in rule.phrases:
            choices.setdefault(phrase, "@rule")
    return _CompiledCatalog(catalog, slot_phrases, tuple(topic_patterns), tuple(choices), tuple(choices.values()))


@lru_cache(maxsize=1)
def compiled_catalog() -> _CompiledCatalog:
    return _compile(load_catalog())


def match_intent(text: str, guide: Guide, context: DialogueContext | None = None) -> Intent:
    """The intent of one utterance (never raises; `none` when it is not meant for the coach)."""
    context = context or DialogueContext()
    words = tokenize(text)
    if not words:
        return Intent.none(text)
    compiled = compiled_catalog()
    concern = find_concern(text) if len(words) >= 2 else None
    if concern is not None:
        return Intent("safety", {"concern": concern.category}, 1.0, text)
    variants = list(_variants(words, compiled.catalog))
    for variant in variants:
        intent = _match_exact(variant, guide, context, compiled, text)
        if intent is not None:
            return intent
    for variant in variants:
        intent = _match_fuzzy(variant, guide, context, compiled, text)
        if intent is not None:
            return intent
    intent = _match_within_fillers(variants[-1], guide, context, compiled, text)
    if intent is not None:
        return intent
    similarity = semantic_concern(text)
    if similarity is not None:
        return Intent("safety", {"concern": "meaning"}, similarity, text)
    return _match_question(words, guide, text)


def _variants(words: list[str], catalog: Catalog) -> Iterator[list[str]]:
    """The utterance as said, then with wrapper words dropped from the start, the end, and both."""
    start = _strip(words, catalog.wrappers_start, from_end=False)
    end = _strip(words, catalog.wrappers_end, from_end=True)
    both = _strip(start, catalog.wrappers_end, from_end=True)
    seen: set[tuple[str, ...]] = set()
    for variant in (words, start, end, both):
        if variant and tuple(variant) not in seen:
            seen.add(tuple(variant))
            yield variant


def _strip(words: list[str], wrappers: tuple[tuple[str, ...], ...], from_end: bool) -> list[str]:
    """Drop wrapper phrases from one end of the words, again and again; at least one word is kept."""
    changed = True
    while changed and words:
        changed = False
        for wrapper in wrappers:
            n = len(wrapper)
            edge = words[-n:] if from_end else words[:n]
            if n < len(words) and tuple(edge) == wrapper:
                words, changed = (words[:-n] if from_end else words[n:]), True
                break
    return words


def _match_exact(words: list[str], guide: Guide, context: DialogueContext,
                 compiled: _CompiledCatalog, text: str) -> Intent | None:
    phrase = " ".join(words)
    rule = compiled.catalog.context_rule(phrase)
    if rule is not None:
        return _apply_rule(rule, guide, context, text, 1.0)
    if phrase in compiled.catalog.fixed:
        return Intent(compiled.catalog.fixed[phrase], {}, 1.0, text)
    slotted, value = _with_step_slot(words, len(guide.steps))
    if value is not None and slotted in compiled.slot_phrases:
        return Intent(compiled.slot_phrases[slotted], {"step": value}, 1.0, text)
    return _match_topic_templates(phrase, guide, context, compiled, text)


def _with_step_slot(words: list[str], step_count: int) -> tuple[str, int | None]:
    """The phrase with its first number or ordinal replaced by {n} / {nth}, and the step it names."""
    for index in range(len(words)):
        after_step_word = index > 0 and words[index - 1] in STEP_WORDS
        ordinal = read_ordinal(words, index)
        if ordinal is not None:
            value, used = ordinal
            marker = "{nth}"
            if value == LAST:
                value = step_count
        else:
            cardinal = read_number(words, index, allow_homophones=after_step_word)
            if cardinal is None:
                continue
            value, used = cardinal
            marker = "{n}"
        return " ".join([*words[:index], marker, *words[index + used:]]), value
    return " ".join(words), None


def _match_topic_templates(phrase: str, guide: Guide, context: DialogueContext,
                           compiled: _CompiledCatalog, text: str) -> Intent | None:
    for intent, pattern in compiled.topic_patterns:
        match = pattern.match(phrase)
        if not match:
            continue
        topic_words = match.group("topic").split()
        if intent == "goto_step":
            step = resolve_step_topic(topic_words, guide)
            if step is not None:
                return Intent("goto_step", {"step": step[0]}, step[1], text)
        else:
            topic = resolve_topic(topic_words, guide, context)
            if topic is not None:
                slots = {"topic": topic[0]} if topic[0] else {}
                return Intent(intent, slots, topic[1], text)
    return None


def _apply_rule(rule: ContextRule, guide: Guide, context: DialogueContext, text: str, score: float) -> Intent:
    state = {"paused": context.paused, "awaiting_confirmation": context.awaiting_confirmation,
             "speaking": context.speaking, "step_known": context.step is not None,
             "after_example": context.last_intent == "example"}
    name = next((intent for flag, intent in rule.when if state.get(flag)), rule.otherwise)
    if name == "none":
        return Intent.none(text, score)
    if name == "explain":
        return Intent("explain", _current_topic(guide, context), score, text)
    return Intent(name, {}, score, text)


def _current_topic(guide: Guide, context: DialogueContext) -> dict[str, str]:
    if context.step is not None and 1 <= context.step <= len(guide.steps):
        return {"topic": guide.step(context.step).main_concept.id}
    return {}


def _trim_topic(words: list[str]) -> list[str]:
    while words and words[0] in TOPIC_LEAD_WORDS and len(words) > 1:
        words = words[1:]
    while words and words[-1] in TOPIC_TAIL_WORDS and len(words) > 1:
        words = words[:-1]
    return words


def resolve_topic(words: list[str], guide: Guide, context: DialogueContext) -> tuple[str, float] | None:
    """A concept id for the words ("active listening" → listening), "" for "that"/"this", else None."""
    phrase = " ".join(words)
    if phrase in compiled_catalog().catalog.deictic_topics:
        return _current_topic(guide, context).get("topic", ""), 1.0
    terms = guide_terms(guide)
    for candidate in (phrase, " ".join(_trim_topic(words))):
        if candidate in terms.concept_by_name:
            return terms.concept_by_name[candidate], 1.0
    phrase = candidate
    best = process.extractOne(phrase, terms.names, scorer=fuzz.ratio, score_cutoff=TOPIC_CUTOFF)
    if best is None:
        return None
    name, score = best[0], best[1] / 100
    if name in terms.concept_by_name:
        return terms.concept_by_name[name], score
    return guide.step(terms.step_by_title[name]).main_concept.id, score


def resolve_step_topic(words: list[str], guide: Guide) -> tuple[int, float] | None:
    """The step a listener names by its topic or title ("the step about therapy")."""
    resolved = resolve_topic(words, guide, DialogueContext())
    if not resolved or not resolved[0]:
        return None
    found = guide.concept(resolved[0])
    return (found[0].number, resolved[1]) if found else None


def _match_within_fillers(words: list[str], guide: Guide, context: DialogueContext,
                          compiled: _CompiledCatalog, text: str) -> Intent | None:
    """The longest catalog phrasing inside the utterance, when every other word is a filler word."""
    if len(words) > MAX_FILLER_SPAN_WORDS:
        return None
    fillers = compiled.catalog.filler_words
    for length in range(len(words) - 1, 0, -1):
        for start in range(len(words) - length + 1):
            rest = words[:start] + words[start + length:]
            if not all(w in fillers for w in rest):
                continue
            intent = _match_exact(words[start:start + length], guide, context, compiled, text)
            if intent is not None and intent.name not in compiled.catalog.whole_utterance_only | {"none"}:
                share = sum(map(len, words[start:start + length])) / sum(map(len, words))
                return Intent(intent.name, intent.slots, round(0.6 + 0.4 * share, 3), text)
    return None


def _match_fuzzy(words: list[str], guide: Guide, context: DialogueContext,
                 compiled: _CompiledCatalog, text: str) -> Intent | None:
    """A near-exact phrasing, allowing small recognition or typing slips ("nex step", "repeet")."""
    slotted, value = _with_step_slot(words, len(guide.steps))
    query = slotted if value is not None else " ".join(words)
    if len(query) < 4:
        return None
    cutoff = SHORT_FUZZY_CUTOFF if len(query) < 8 else FUZZY_CUTOFF
    best = process.extractOne(query, compiled.fuzzy_choices, scorer=fuzz.ratio, score_cutoff=cutoff)
    if best is None:
        return None
    phrase, score, index = best
    intent, score = compiled.fuzzy_intents[index], score / 100
    if intent == "@rule":
        rule = compiled.catalog.context_rule(phrase)
        return _apply_rule(rule, guide, context, text, score) if rule else None
    has_slot = "{n}" in phrase or "{nth}" in phrase
    if has_slot != (value is not None):
        return None
    return Intent(intent, {"step": value} if has_slot else {}, score, text)


def _match_question(words: list[str], guide: Guide, text: str) -> Intent:
    """A question the guide can answer; a statement only when it is about the listener's relationship."""
    asks = words[0] in QUESTION_STARTS or text.rstrip().endswith("?")
    personal = len(words) >= 4 and any(w in PERSONAL_WORDS for w in words)
    if not (asks and len(words) >= 3) and not personal:
        return Intent.none(text)
    index = guide_index(guide)
    if index.content_word_count(text) < MIN_QUESTION_WORDS:
        return Intent.none(text)
    passage, score = index.search(text)
    needed = FOUND_THRESHOLD if asks else 0.75
    if passage is None or score < needed:
        return Intent.none(text, score)
    return Intent("question", {"text": normalize(text)}, round(score, 3), text)
