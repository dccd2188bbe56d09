"""From an utterance's words to one intent with its slots, using the phrase catalog and the dialogue context.

Order of decisions: safety first (its patterns); then the utterance (with wrapper words such as "um" or "please" dropped
from its ends) is looked up exactly, as a slot template, fuzzily, and by how it sounds against the catalog; then safety
by meaning (when the sentence encoder is installed); then a catalog phrasing inside a longer sentence; then a command by
meaning (the whole utterance, or the words after an aside); then as a question the guide can answer; everything else is
`none`.
A false command is worse than a polite "sorry?".
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from voicecoach.guide.model import Guide
from voicecoach.understanding.catalog import Catalog, ContextRule, load_catalog, topic_names
from voicecoach.understanding.intents import DialogueContext, Intent
from voicecoach.understanding.numbers import number_to_words, read_number, read_ordinal
from voicecoach.understanding.per_guide import per_guide
from voicecoach.understanding.safety_intents import safety_by_meaning, safety_by_words
from voicecoach.understanding.question_gate import match_question
from voicecoach.understanding.retrieval import stem
from voicecoach.understanding.sounds import sound_key
from voicecoach.understanding.semantic_commands import (
    ASIDE_MIN_WORDS, OBJECT_LEADS, SHORT_WORDS, Guess, command_likeness, semantic_guess, unknown_words,
)
from voicecoach.understanding.text import normalize, tokenize

FUZZY_CUTOFF = 88.0  # rapidfuzz ratio (0..100) for a near-exact phrasing ("nex step")
SHORT_FUZZY_CUTOFF = 93.0  # phrasings under 8 characters need to be closer ("stap" is not "stop")
TOPIC_CUTOFF = 80.0
STEMMED_TOPIC_SCORE = 0.75
SOUND_ALIKE_MAX_WORDS = 3  # a sound-alike ("go bark", "egg sample") is taken for a command this short at most
SOUND_ALIKE_MIN_KEY = 4  # and when its sound key has this many sounds at least ("bet" for "bed" is too few)
WORD_SLIP_CUTOFF = 70.0  # each changed word of a fuzzy match must be this close to its counterpart ("repeet")
LIGHT_WORDS = frozenset("my your our the this that very of some".split())
STEP_WORDS = frozenset({"step", "number"})
# "one" names step 1 only first, after a step word, or after one of these; elsewhere it stands for a step named
# by its topic ("the conflict one", "this one").
ONE_AS_NUMBER_AFTER = frozenset({"to", "at", "from", "on", "back", "and", "or", "of", "is", "was", "part"})
MAX_TOPIC_WORDS = 6
DISTRESS_PROBABILITY = 0.5
MAX_FILLER_SPAN_WORDS = 16
MIN_WRAPPED_WORDS = 3
QUESTION_WORDS = frozenset("what why how when where who which".split())
MAX_WRAPPED_WORDS = 20
# A command followed by a reason ("go back i missed that") must sound like a command to someone at all: its
# cosine to the closest command example (on the tuning halves, "go back i left teddy at nana's" 0.39, "hold on a
# sec i need to concentrate on the road" 0.51). Without the encoder such sentences are not taken.
REASON_MIN_COMMAND_LIKENESS = 0.5
# Words of a topic phrase that carry no topic ("giving each other space" names "giving space").
TOPIC_LIGHT_WORDS = frozenset("a an the of to in on for with and each other others another one ones our your their my "
                              "his her its them us me you i we they it this that be being have having has do doing "
                              "really properly so just bit".split())


@dataclass(frozen=True)
class _GuideTerms:
    """Per-guide lookups: spoken names of concepts and steps."""

    concept_by_name: dict[str, str]  # normalised name -> concept id
    step_by_title: dict[str, int]
    names: tuple[str, ...]
    vocabulary: frozenset[str]  # every word of the names
    # (stems of a name's content words, concept id, whether the name is a step title), for names said in
    # other word forms or with other light words ("owning your part", "having your own hobbies")
    name_stems: tuple[tuple[frozenset[str], str, bool], ...] = ()


def _guide_terms(guide: Guide) -> _GuideTerms:
    concept_by_name: dict[str, str] = {}
    for _, concept in guide.concepts():
        for name in concept.names:
            concept_by_name.setdefault(normalize(name), concept.id)
    step_by_title = {normalize(step.title): step.number for step in guide.steps}
    names = tuple(topic_names(guide))
    name_stems = [(_content_stems(name.split()), concept_id, False) for name, concept_id in concept_by_name.items()]
    name_stems += [(_content_stems(title.split()), guide.step(number).main_concept.id, True)
                   for title, number in step_by_title.items()]
    return _GuideTerms(concept_by_name, step_by_title, names, frozenset(w for n in names for w in n.split()),
                       tuple((stems, cid, title) for stems, cid, title in name_stems if stems))


def _content_stems(words: list[str]) -> frozenset[str]:
    plain = (w.removesuffix("'s").replace("'", "") for w in words)
    return frozenset(stem(w) for w in plain if w not in TOPIC_LIGHT_WORDS)


guide_terms = per_guide(_guide_terms)


@dataclass(frozen=True)
class _CompiledCatalog:
    """The catalog in the forms the matcher looks things up by."""

    catalog: Catalog
    slot_phrases: dict[str, str]  # "go to step {n}" -> goto_step
    # the words before and after {topic} -> (catalog order, intent) of each template with them
    topic_templates: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[tuple[int, str], ...]]
    fuzzy_choices: tuple[str, ...]
    fuzzy_intents: tuple[str, ...]  # an intent name, or "@rule" for a context rule
    relative_phrases: dict[str, int]  # "back {n} steps" -> -1
    # how short command phrasings sound (sounds.sound_key) -> their intent; keys two intents share are left out
    sound_keys: dict[str, str]
    # the same for yes and no alone, shorter keys included ("now" for "no"): used only while a question is pending
    answer_sound_keys: dict[str, str]


def _compile(catalog: Catalog) -> _CompiledCatalog:
    slot_phrases: dict[str, str] = {}
    topic_templates: dict[tuple[tuple[str, ...], tuple[str, ...]], list[tuple[int, str]]] = {}
    for order, template in enumerate(catalog.understood_templates or catalog.slot_templates):
        if "{topic}" in template.phrase:
            before, after = template.phrase.split("{topic}", 1)
            key = (_interned(before), _interned(after))
            topic_templates.setdefault(key, []).append((order, template.intent))
        else:
            slot_phrases.setdefault(template.phrase, template.intent)
    choices = dict(catalog.all_fixed())
    for phrase, intent in slot_phrases.items():
        choices.setdefault(phrase, intent)
    for rule in catalog.contextual:
        for phrase in rule.phrases:
            choices.setdefault(phrase, "@rule")
    relative = {t.phrase: t.direction for t in catalog.relative_templates}
    return _CompiledCatalog(catalog, slot_phrases, {k: tuple(v) for k, v in topic_templates.items()},
                            tuple(choices), tuple(choices.values()), relative, _sound_keys(catalog.all_fixed()),
                            _sound_keys({p: i for p, i in catalog.fixed.items() if i in catalog.whole_utterance_only},
                                        min_key=1))


def _interned(words: str) -> tuple[str, ...]:
    """The words as a tuple of interned strings: some twenty thousand templates share a few hundred words."""
    return tuple(sys.intern(word) for word in words.split())


def _sound_keys(fixed: dict[str, str], min_key: int = 0) -> dict[str, str]:
    by_key: dict[str, set[str]] = {}
    for phrase, intent in fixed.items():
        if phrase.count(" ") < SOUND_ALIKE_MAX_WORDS:
            key = sound_key(phrase)
            if len(key) >= (min_key or SOUND_ALIKE_MIN_KEY):
                by_key.setdefault(key, set()).add(intent)
    return {key: intents.pop() for key, intents in by_key.items() if len(intents) == 1}


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
    intent = safety_by_words(text, words)
    if intent is not None:
        return intent
    variants = list(_variants(words, compiled.catalog))
    for variant in variants:
        intent = _match_exact(variant, guide, context, compiled, text)
        if intent is not None:
            return intent
    for variant in variants:
        intent = _match_fuzzy(variant, guide, context, compiled, text)
        if intent is not None:
            return intent
    for variant in variants:
        intent = _match_sound_alike(variant, context, compiled, text)
        if intent is not None:
            return intent
    intent = _match_within_fillers(variants[-1], guide, context, compiled, text)
    if intent is not None and not _sounds_like_distress(text):
        return intent
    intent = safety_by_meaning(text)
    if intent is not None:
        return intent
    # a hesitation ends an aside ("the kids are shouting um next step"): looked for before hesitations are dropped
    intent = None
    if any(w in compiled.catalog.hesitations for w in words):
        intent = _match_wrapped(words, guide, context, compiled, text)
    if intent is None:
        intent = _match_wrapped(variants[-1], guide, context, compiled, text)
    if intent is not None and not _sounds_like_distress(text):
        return intent
    intent = match_by_meaning(variants[-1], guide, context, text)
    if intent is not None:
        return intent
    intent = _answer_by_lead(variants[-1], context, compiled.catalog, text)
    if intent is not None:
        return intent
    return match_question(words, guide, text)


def _answer_by_lead(words: list[str], context: DialogueContext, catalog: Catalog, text: str) -> Intent | None:
    """A short reply to a pending yes/no question that starts with a yes or a no ("nah i'm alright ta"), when no
    command was heard in it and it asks nothing."""
    if not context.awaiting_confirmation or len(words) > catalog.answer_max_words:
        return None
    for lead, name in catalog.answer_leads:
        if tuple(words[:len(lead)]) == lead:
            if any(w in QUESTION_WORDS for w in words[len(lead):]):
                return None
            return Intent(name, {}, 0.7, text)
    return None


def _sounds_like_distress(text: str) -> bool:
    """Whether a sentence holding a command's words ("i just want it to stop") is nearest to distress by meaning:
    then it is no command, and goes on to safety by meaning and the question path."""
    guess = semantic_guess(text, min_words=SHORT_WORDS)
    return guess is not None and guess.intent == "distress" and guess.probability >= DISTRESS_PROBABILITY


def match_by_meaning(words: list[str], guide: Guide, context: DialogueContext, text: str,
                     guess: Guess | None = None) -> Intent | None:
    """A command recognised by meaning (semantic_commands), with its slots read from the words; None when the
    layer is not sure, the intent needs a slot the words do not give, or a yes/no answers no question. A command
    after an aside is read from the words after it. Never while the coach speaks: what the microphone hears
    then is mostly the coach's own voice, less what the echo canceller removed, and its fragments read as
    commands by meaning ("the top is that" as start over); only phrasings the catalog knows interrupt."""
    if context.speaking:
        return None
    guess = guess or semantic_guess(text)  # the words as heard: their vector is cached from safety by meaning
    if guess is None:
        return None
    said = tokenize(text)
    unknown = set(unknown_words(text)) - guide_terms(guide).vocabulary
    unknown_at = [i for i, w in enumerate(said) if w in unknown]
    objects = sum(1 for i in unknown_at if i and said[i - 1] in OBJECT_LEADS)
    if guess.is_command(len(said), len(unknown_at), objects):
        return _command_by_meaning(guess, words, guide, context, text)
    if unknown_at and guess.may_end_in_command():
        return _command_after_aside(guess, said, unknown_at[-1], guide, context, text)
    return None


def _command_after_aside(whole: Guess, said: list[str], last_unknown: int, guide: Guide, context: DialogueContext,
                         text: str) -> Intent | None:
    """A command said after an aside ("sorry the dog was barking take me back one"): the words after the aside's
    last unknown word, read alone by meaning."""
    rest = said[last_unknown + 1:]
    if len(rest) < ASIDE_MIN_WORDS or any(w in compiled_catalog().catalog.wrapped.not_for_us
                                          for w in said[:last_unknown + 1]):
        return None
    guess = semantic_guess(" ".join(rest), min_words=ASIDE_MIN_WORDS)
    if guess is None or not guess.is_command_after_aside(whole):
        return None
    return _command_by_meaning(guess, rest, guide, context, text)


def _command_by_meaning(guess: Guess, words: list[str], guide: Guide, context: DialogueContext,
                        text: str) -> Intent | None:
    """The intent a sure guess names, with its slots read from the words."""
    score = round(guess.probability, 3)
    if guess.intent in ("yes", "no") and not context.awaiting_confirmation:
        return None
    if guess.intent == "goto_step":
        if _back_to_the_last(words):
            return Intent("previous", {}, score, text)
        slots = _step_slot_anywhere(words, guide)
        return Intent("goto_step", slots, score, text) if slots else None
    if guess.intent == "explain":
        topic = _topic_within(_trim_topic(words), guide_terms(guide), anywhere=True)
        return Intent("explain", {"topic": topic[0]}, score, text) if topic else None
    return Intent(guess.intent, {}, score, text)


def _back_to_the_last(words: list[str]) -> bool:
    """ "take me back to the last step, i was paying for parking": "last" after "back" is the step before this
    one, not the guide's final step (the catalog's exact phrasings say so too)."""
    return any(word == "last" and "back" in words[max(0, index - 3):index] for index, word in enumerate(words))


def _step_slot_anywhere(words: list[str], guide: Guide) -> dict[str, int]:
    """The step an utterance names by number or ordinal, else by a concept it names; {} for none."""
    _, value = _with_step_slot(words, len(guide.steps))
    if value is not None:
        return {"step": value} if 1 <= value <= len(guide.steps) else {}
    topic = _topic_within(words, guide_terms(guide), anywhere=True)
    found = guide.concept(topic[0]) if topic else None
    return {"step": found[0].number} if found else {}


def _variants(words: list[str], catalog: Catalog) -> Iterator[list[str]]:
    """The utterance as said, then with wrapper words dropped from the start, the end, and both; then the same
    with hesitations dropped anywhere and words said twice in a row counted once. The last is the barest."""
    seen: set[tuple[str, ...]] = set()
    forms = catalog.spoken_forms or {}
    spelled = [part for w in words if w not in catalog.hesitations for part in forms.get(w, _spelled_number(w))]
    cleaned = _collapse_repeats(spelled) or words
    for said in (words, cleaned):
        start = _strip(said, catalog.wrappers_start, from_end=False)
        end = _strip(said, catalog.wrappers_end, from_end=True)
        both = _strip(start, catalog.wrappers_end, from_end=True)
        for variant in (said, start, end, both, _collapse_repeats(both)):
            if variant and tuple(variant) not in seen:
                seen.add(tuple(variant))
                yield variant


def _spelled_number(word: str) -> tuple[str, ...]:
    """A number a recognizer wrote in digits, as it is said ("1 second" is "one second"); other words as they are."""
    return tuple(number_to_words(int(word)).split()) if word.isdigit() and 0 < int(word) < 100 else (word,)


def _collapse_repeats(words: list[str]) -> list[str]:
    """A word or a phrase of up to three words said twice in a row, once ("go on go on" -> "go on")."""
    for size in (3, 2, 1):
        index = 0
        while index + 2 * size <= len(words):
            if words[index:index + size] == words[index + size:index + 2 * size]:
                words = words[:index + size] + words[index + 2 * size:]
            else:
                index += 1
    return words


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
    fixed = compiled.catalog.all_fixed()
    if phrase in fixed:
        name = fixed[phrase]
        if _answer_without_question(name, phrase, context, compiled.catalog, text):
            return None
        return Intent(name, {}, 1.0, text)
    slotted, value = _with_step_slot(words, len(guide.steps))
    if value is not None and slotted in compiled.slot_phrases:
        return Intent(compiled.slot_phrases[slotted], {"step": value}, 1.0, text)
    relative = _match_relative(words, guide, context, compiled, text)
    if relative is not None:
        return relative
    return _match_topic_templates(phrase, guide, context, compiled, text)


def _answer_without_question(name: str, phrase: str, context: DialogueContext, catalog: Catalog,
                             text: str) -> bool:
    """A yes or no said in more words than the grammar's ("yeah yeah", "i'm fine thanks") is an answer only
    when a question is pending."""
    return (name in catalog.whole_utterance_only and not context.awaiting_confirmation
            and (phrase not in catalog.fixed or phrase != normalize(text)))


def _with_step_slot(words: list[str], step_count: int) -> tuple[str, int | None]:
    """The phrase with its first number or ordinal replaced by {n} / {nth}, and the step it names."""
    for index in range(len(words)):
        after_step_word = index > 0 and words[index - 1] in STEP_WORDS
        ordinal = read_ordinal(words, index)
        if ordinal is not None:
            value, used = ordinal
            marker = "{nth}"
            if value < 0:  # counted from the end: last, second to last
                value = step_count + 1 + value
        else:
            cardinal = read_number(words, index, allow_homophones=after_step_word)
            if cardinal is None or (words[index] == "one" and index > 0 and not after_step_word
                                    and words[index - 1] not in ONE_AS_NUMBER_AFTER):
                continue
            value, used = cardinal
            marker = "{n}"
        return " ".join([*words[:index], marker, *words[index + used:]]), value
    return " ".join(words), None


def _match_relative(words: list[str], guide: Guide, context: DialogueContext,
                    compiled: _CompiledCatalog, text: str) -> Intent | None:
    """ "back two steps", "skip ahead three steps": a step counted from the current one (one step is
    previous or next; before the guide starts, forward counts from its beginning)."""
    for index in range(len(words)):
        number = read_number(words, index)
        if number is None:
            continue
        count, used = number
        phrase = " ".join([*words[:index], "{n}", *words[index + used:]])
        direction = compiled.relative_phrases.get(phrase)
        if direction is None:
            return None
        if count == 1:
            return Intent("previous" if direction < 0 else "next", {}, 1.0, text)
        target = (context.step or 0) + direction * count
        if context.step is None and direction < 0:
            return None
        return Intent("goto_step", {"step": min(max(target, 1), len(guide.steps))}, 1.0, text)
    return None


def _match_topic_templates(phrase: str, guide: Guide, context: DialogueContext,
                           compiled: _CompiledCatalog, text: str) -> Intent | None:
    for intent, topic_words in _topic_template_matches(phrase.split(), compiled):
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


def _topic_template_matches(words: list[str], compiled: _CompiledCatalog) -> list[tuple[str, list[str]]]:
    """Every (intent, topic words) a {topic} template reads in the words, in catalog order (for one template,
    the shortest topic first): a table of the words around {topic}, looked up at each split of the words."""
    found: list[tuple[int, int, str, list[str]]] = []
    table = compiled.topic_templates
    for start in range(len(words)):
        before = tuple(words[:start])
        for end in range(len(words), start, -1):
            for order, intent in table.get((before, tuple(words[end:])), ()):
                found.append((order, end - start, intent, words[start:end]))
    found.sort(key=lambda hit: (hit[0], hit[1]))
    return [(intent, topic) for _, _, intent, topic in found]


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
    catalog = compiled_catalog().catalog
    return _strip(_strip(words, catalog.topic_leads, from_end=False), catalog.topic_tails, from_end=True)


def resolve_topic(words: list[str], guide: Guide, context: DialogueContext) -> tuple[str, float] | None:
    """A concept id for the words ("active listening" → listening), "" for "that"/"this", else None."""
    phrase = " ".join(words)
    if phrase in compiled_catalog().catalog.deictic_topics:
        return _current_topic(guide, context).get("topic", ""), 1.0
    terms = guide_terms(guide)
    candidates = dict.fromkeys((phrase, " ".join(_trim_topic(words))))
    for candidate in candidates:
        if candidate in terms.concept_by_name:
            return terms.concept_by_name[candidate], 1.0
    found = [hit for c in candidates
             if (hit := process.extractOne(c, terms.names, scorer=fuzz.ratio, score_cutoff=TOPIC_CUTOFF))]
    if not found:
        within = _topic_within(candidate.split(), terms)
        if within is not None:
            return within
        concept_id = _topic_by_stems(candidate.split(), terms, part_of_title=False)
        return (concept_id, STEMMED_TOPIC_SCORE) if concept_id else None
    best = max(found, key=lambda hit: hit[1])
    name, score = best[0], best[1] / 100
    if name in terms.concept_by_name:
        return terms.concept_by_name[name], score
    return guide.step(terms.step_by_title[name]).main_concept.id, score


def _topic_within(words: list[str], terms: _GuideTerms, anywhere: bool = False) -> tuple[str, float] | None:
    """A concept named inside a short topic phrase ("giving each other space", "fighting fair"): the longest
    concept name found as whole words, when it is at least a third of the phrase's words (or anywhere in a
    sentence already known to be a command about a topic)."""
    if not words or (len(words) > MAX_TOPIC_WORDS and not anywhere):
        return None
    for length in range(min(len(words), 4) if anywhere else len(words) - 1, 0, -1):
        if length * 3 < len(words) and not anywhere:
            break
        for start in range(len(words) - length + 1):
            name = " ".join(words[start:start + length])
            if name in terms.concept_by_name:
                return terms.concept_by_name[name], round(0.7 + 0.3 * length / len(words), 3)
    return None


def _topic_by_stems(words: list[str], terms: _GuideTerms, part_of_title: bool) -> str | None:
    """The concept a topic phrase names in other word forms: every content word of one of its names said, and no
    other content word ("respecting their wishes"); with part_of_title, also words that are all in one step's
    title ("be gentle"). None when nothing or two different concepts fit as well."""
    said = _content_stems(words)
    if not said:
        return None
    scored: dict[str, float] = {}
    for stems, concept_id, is_title in terms.name_stems:
        if stems == said or (stems < said and not said - stems):
            score = float(len(stems))
        elif part_of_title and is_title and said < stems:
            score = len(said) - 0.5
        else:
            continue
        scored[concept_id] = max(scored.get(concept_id, 0.0), score)
    if not scored:
        return None
    ranked = sorted(scored.items(), key=lambda item: -item[1])
    if len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    return ranked[0][0]


def resolve_step_topic(words: list[str], guide: Guide) -> tuple[int, float] | None:
    """The step a listener names by its topic or title ("the step about therapy")."""
    resolved = resolve_topic(words, guide, DialogueContext())
    if not resolved or not resolved[0]:
        concept_id = _topic_by_stems(_trim_topic(words), guide_terms(guide), part_of_title=True)
        resolved = (concept_id, STEMMED_TOPIC_SCORE) if concept_id else None
    if not resolved:
        return None
    found = guide.concept(resolved[0])
    return (found[0].number, resolved[1]) if found else None


def _match_within_fillers(words: list[str], guide: Guide, context: DialogueContext,
                          compiled: _CompiledCatalog, text: str) -> Intent | None:
    """The longest grammar phrasing inside the utterance, when every other word is a filler word."""
    if len(words) > MAX_FILLER_SPAN_WORDS:
        return None
    fillers = compiled.catalog.filler_words
    for length in range(len(words) - 1, 0, -1):
        for start in range(len(words) - length + 1):
            rest = words[:start] + words[start + length:]
            if not all(w in fillers for w in rest):
                continue
            span = words[start:start + length]
            if " ".join(span) in compiled.catalog.all_fixed() and " ".join(span) not in compiled.catalog.fixed:
                continue  # the wider phrasings ("end") count as the whole utterance, never inside a sentence
            intent = _match_exact(span, guide, context, compiled, text)
            if intent is not None and intent.name not in compiled.catalog.whole_utterance_only | {"none"}:
                share = sum(map(len, words[start:start + length])) / sum(map(len, words))
                return Intent(intent.name, intent.slots, round(0.6 + 0.4 * share, 3), text)
    return None


def _match_wrapped(words: list[str], guide: Guide, context: DialogueContext,
                   compiled: _CompiledCatalog, text: str) -> Intent | None:
    """A command said inside a longer sentence: after an aside that ends at a clause boundary or is itself a command
    ("a lorry went past can you repeat that", "sorry i zoned out what was that", "hang on go back ..."), and/or
    before a reason ("hold on a sec i need to concentrate on the road"). The last such command counts."""
    if not MIN_WRAPPED_WORDS <= len(words) <= MAX_WRAPPED_WORDS:
        return None
    wrapped = compiled.catalog.wrapped
    ends = [len(words)] + [i for i in range(1, len(words)) if _starts_with(words[i:], wrapped.reason_starts)]
    for start in range(len(words) - 1, -1, -1):
        before = words[:start]
        if start and not (before[-1] in wrapped.aside_ends or _starts_with(words[start:], wrapped.request_starts)
                          or _command_in(before, guide, context, compiled, text) is not None):
            continue
        for end in ends:
            if end <= start or (start == 0 and end == len(words)):
                continue
            if any(w in wrapped.not_for_us for w in [*before, *words[end:]]):
                return None
            single = end - start == 1 or len(_variants_barest(words[start:end], compiled.catalog)) == 1
            if single and not (start and before[-1] in wrapped.single_word_after):
                continue
            intent = _command_in(words[start:end], guide, context, compiled, text)
            if intent is not None and intent.name in wrapped.never_wrapped:
                continue
            if intent is not None and end < len(words):
                likeness = command_likeness(text)
                if likeness is None or likeness < REASON_MIN_COMMAND_LIKENESS:
                    continue
            if intent is not None:
                if intent.name == "goto_step" and _back_to_the_last(words[:end]):
                    intent = Intent("previous", {}, intent.score, text)
                return Intent(intent.name, intent.slots, round(0.6 + 0.3 * (end - start) / len(words), 3), text)
    return None


def _variants_barest(words: list[str], catalog: Catalog) -> list[str]:
    return list(_variants(words, catalog))[-1]


def _starts_with(words: list[str], phrases: tuple[tuple[str, ...], ...]) -> bool:
    return any(tuple(words[:len(p)]) == p for p in phrases)


def _command_in(span: list[str], guide: Guide, context: DialogueContext, compiled: _CompiledCatalog,
                text: str) -> Intent | None:
    """The command a part of a sentence is, wrapper words dropped; a one-word command only as the grammar has it
    ("next", not the wider "end"); never a yes or no, which count only as the whole utterance."""
    for variant in _variants(span, compiled.catalog):
        phrase = " ".join(variant)
        if len(variant) == 1 and phrase not in compiled.catalog.fixed and compiled.catalog.context_rule(phrase) is None:
            continue
        intent = _match_exact(variant, guide, context, compiled, text)
        if intent is not None and intent.name not in compiled.catalog.whole_utterance_only | {"none"}:
            return intent
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
    if not _slips_only(query.split(), phrase.split(), compiled.catalog.filler_words | LIGHT_WORDS):
        return None
    intent, score = compiled.fuzzy_intents[index], score / 100
    if intent == "@rule":
        rule = compiled.catalog.context_rule(phrase)
        return _apply_rule(rule, guide, context, text, score) if rule else None
    has_slot = "{n}" in phrase or "{nth}" in phrase
    if has_slot != (value is not None) or _answer_without_question(intent, phrase, context, compiled.catalog, text):
        return None
    return Intent(intent, {"step": value} if has_slot else {}, score, text)


def _match_sound_alike(words: list[str], context: DialogueContext, compiled: _CompiledCatalog,
                       text: str) -> Intent | None:
    """A short command the recognizer wrote as words that sound the same ("go bark", "slow wer", "wear am i")."""
    if len(words) > SOUND_ALIKE_MAX_WORDS:
        return None
    key = sound_key(words)
    if context.awaiting_confirmation and key in compiled.answer_sound_keys:
        return Intent(compiled.answer_sound_keys[key], {}, 0.8, text)  # "now" for "no" when asked
    intent = compiled.sound_keys.get(key)
    if intent is None or (intent in compiled.catalog.whole_utterance_only and not context.awaiting_confirmation):
        return None
    return Intent(intent, {}, 0.8, text)


def _slips_only(said: list[str], phrase: list[str], light: frozenset[str]) -> bool:
    """Whether two phrasings differ only by slips ("nex step", "gimme an example") or light words ("go to the
    very last step"), not by a word that changes the meaning ("summarize the news" is not "summarize the step")."""
    for tag, s1, s2, p1, p2 in Levenshtein.opcodes(said, phrase):
        if tag == "equal":
            continue
        changed = [*said[s1:s2], *phrase[p1:p2]]
        if all(word in light for word in changed):
            continue
        if tag != "replace" or fuzz.ratio(" ".join(said[s1:s2]), " ".join(phrase[p1:p2])) < WORD_SLIP_CUTOFF:
            return False
    return True
