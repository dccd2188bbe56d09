"""Answering a free question from the guide's own text: a small BM25 index over faq answers, concept
explanations, examples and step text, with word groups so "fighting" finds "arguing"."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from voicecoach.guide.model import Guide
from voicecoach.understanding.intents import DialogueContext
from voicecoach.understanding.per_guide import per_guide
from voicecoach.understanding.text import tokenize

FOUND_THRESHOLD = 0.44  # share of the question's meaning (idf-weighted) the best passage must cover
KIND_WEIGHT = {"faq": 1.3, "concept": 1.15, "summary": 1.0, "body": 1.0, "example": 0.85}
K1, B = 1.2, 0.75
MIN_STEM = 4  # shorter stems collide ("cars" and "cared" would both become "car")


@dataclass(frozen=True)
class Answer:
    """What to say in reply to a question, and where in the guide it comes from."""

    text: str
    step: int | None  # 1-based step the answer comes from
    score: float  # 0..1: how much of the question the answer covers
    found: bool


@dataclass(frozen=True)
class Passage:
    step: int
    kind: str
    text: str  # what is said when this passage answers
    terms: Counter[str]


@dataclass(frozen=True)
class _Language:
    stopwords: frozenset[str]
    groups: dict[str, str]  # stem -> group name


@lru_cache(maxsize=1)
def _language() -> _Language:
    data = yaml.safe_load(resources.files("voicecoach.understanding").joinpath("language.yaml").read_text("utf-8"))
    assert all(isinstance(w, str) for w in data["stopwords"]), "quote yes/no/on/off in language.yaml"
    groups: dict[str, str] = {}
    for words in data["synonyms"]:
        for word in words:
            for token in tokenize(word):
                groups.setdefault(stem(token), "#" + words[0])
    return _Language(frozenset(data["stopwords"]), groups)


def stem(word: str) -> str:
    """A light suffix stripper: enough to meet "arguing" and "argue" at "argu"."""
    for suffix in ("ingly", "edly", "ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > MIN_STEM else word


def terms(text: str) -> list[str]:
    """Search terms of a text: content-word stems plus the group each belongs to."""
    language = _language()
    result = []
    for token in tokenize(text):
        if token in language.stopwords or len(token) < 2:
            continue
        token_stem = stem(token.replace("'", ""))
        result.append(token_stem)
        if token_stem in language.groups:
            result.append(language.groups[token_stem])
    return result


class GuideIndex:
    """BM25 over one guide's passages."""

    def __init__(self, guide: Guide) -> None:
        self.guide = guide
        self.passages: list[Passage] = []
        for step in guide.steps:
            for faq in step.faq:
                # the question counts twice: a listener's question is most like the question written
                self._add(step.number, "faq", faq.answer, f"{faq.question} {faq.question} {faq.answer}")
            for concept in step.concepts:
                self._add(step.number, "concept", concept.explanation,
                          " ".join(concept.names) + " " + concept.explanation)
            for example in step.examples:
                self._add(step.number, "example", example, example)
            self._add(step.number, "summary", step.summary, f"{step.title} {step.title} {step.summary}")
            for paragraph in step.body:
                self._add(step.number, "body", paragraph, paragraph)
        self.key_terms = frozenset(
            t for step in guide.steps
            for text in (step.title, *(f.question for f in step.faq), *(n for c in step.concepts for n in c.names))
            for t in terms(text)
        )
        count = len(self.passages)
        frequency = Counter(t for p in self.passages for t in p.terms)
        self.idf = {t: math.log(1 + (count - n + 0.5) / (n + 0.5)) for t, n in frequency.items()}
        self.unknown_idf = math.log(1 + (count + 0.5) / 0.5)
        self.average_length = sum(sum(p.terms.values()) for p in self.passages) / max(count, 1)

    def _add(self, step: int, kind: str, text: str, searchable: str) -> None:
        self.passages.append(Passage(step, kind, text, Counter(terms(searchable))))

    def search(self, question: str) -> tuple[Passage | None, float]:
        """The best passage and its coverage of the question (0..1).

        A lone shared word counts only when it is a key term of the guide (a title, concept name or faq
        question word, or one of a group of synonyms): "taxes on cars" does not match an example that
        happens to mention a car.
        """
        query = list(dict.fromkeys(terms(question)))
        if not query:
            return None, 0.0
        best, best_score = None, 0.0
        for passage in self.passages:
            score = self._bm25(query, passage) * KIND_WEIGHT[passage.kind]
            if score > best_score:
                best, best_score = passage, score
        if best is None:
            return None, 0.0
        shared = [t for t in query if t in best.terms and not t.startswith("#")]
        groups = [t for t in query if t in best.terms and t.startswith("#")]
        if len(shared) + len(groups) < 2 and not (set(shared) & self.key_terms or groups):
            return best, 0.0
        return best, self._coverage(query, best)

    def content_word_count(self, text: str) -> int:
        """How many distinct content words (not stopwords) a text has."""
        return len({t for t in terms(text) if not t.startswith("#")})

    def _bm25(self, query: list[str], passage: Passage) -> float:
        length = sum(passage.terms.values())
        score = 0.0
        for term in query:
            tf = passage.terms.get(term, 0)
            if tf:
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / self.average_length))
                score += self.idf[term] * norm
        return score

    def _coverage(self, query: list[str], passage: Passage) -> float:
        """The idf-weighted share of the question's words (each word or its group) the passage holds."""
        words: dict[str, list[str]] = {}
        for term in query:  # a word's stem is followed by its group: keep them together
            if term.startswith("#") and words:
                next(reversed(words.values())).append(term)
            else:
                words[term] = [term]
        total = covered = 0.0
        for options in words.values():
            weight = max(self.idf.get(t, self.unknown_idf) for t in options)
            total += weight
            if any(t in passage.terms for t in options):
                covered += weight
        return covered / total if total else 0.0


guide_index = per_guide(GuideIndex)


def answer_question(guide: Guide, text: str, context: DialogueContext | None = None) -> Answer:
    """The guide's best answer to a free question, or an honest "not covered" with the closest step."""
    passage, score = guide_index(guide).search(text)
    if passage is not None and score >= FOUND_THRESHOLD:
        step = guide.step(passage.step)
        return Answer(f"From step {step.number}, {step.title}: {passage.text}", step.number, round(score, 3), True)
    if passage is not None and score > 0:
        step = guide.step(passage.step)
        return Answer(f"I'm sorry, this guide doesn't really cover that. The closest part is step "
                      f"{step.number}, {step.title}. Say go to step {step.number} to hear it, or say help.",
                      None, round(score, 3), False)
    return Answer("I'm sorry, this guide doesn't cover that. Say help to hear what you can ask, or "
                  "list the steps to hear what the guide is about.", None, round(score, 3), False)
