"""Finding where a guide speaks to a question: BM25 over its passages (words, with word groups so "fighting"
finds "arguing") blended with sentence meaning over short views of each passage (faq questions, concept
names, example and step sentences, and how listeners really asked: question_examples.yaml, from the benchmark's
tuning halves), scored per step, and how much closer a question is to the questions the guide does not cover
(not_covered.yaml, and listeners' in question_examples.yaml) than to the guide. Without the sentence encoder,
words alone decide.

Listeners' questions as views, judged by leaving each writer's batch out in turn (its tuning half answered by
an index built from the other batches' tuning halves): answered from the right step 468 -> 492 of 533,
uncovered declined 187 -> 189 of 198 (with OUTSIDE_MARGIN -0.04; not-covered examples alone at -0.02 before).
The step classifier learns from them too; its weight stays best at 0.02 (0.01 to 0.05 within 2)."""

from __future__ import annotations

import math
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from voicecoach.datafile import packaged_yaml
from voicecoach.guide.model import Guide, Step
from voicecoach.understanding import semantic
from voicecoach.understanding.per_guide import per_guide
from voicecoach.understanding.step_classifier import StepClassifier, step_classifier
from voicecoach.understanding.text import normalize, tokenize

KIND_WEIGHT = {"faq": 1.3, "concept": 1.15, "summary": 1.0, "body": 1.0, "example": 0.85}
K1, B = 1.2, 0.75
MIN_STEM = 4  # shorter stems collide ("cars" and "cared" would both become "car")
# A passage is as close to a question as its closest view; a step's score by meaning is the mean of its best
# two passages, so one lucky sentence counts less than a step that speaks to the question from several sides; words add the share of the question the step's best
# passage covers, and BM25 relative to the best step. Weights from the tuning half of the held-out questions.
TOP_PASSAGES = 2
COVERAGE_WEIGHT = 0.2
BM25_WEIGHT = 0.1
# The step classifier (step_classifier.py) lowers each step by how much less likely it finds it than its
# favourite: CLASSIFIER_WEIGHT * log(p / p_best), at most CLASSIFIER_FLOOR. Chosen by leaving each faq out in
# turn (its step first: 71% by nearest views alone, 79% with the classifier) and on the tuning half.
CLASSIFIER_WEIGHT = 0.02
CLASSIFIER_FLOOR = -0.2
# How close a question is to the guide, and to the not-covered examples: the mean of the closest few of each.
OUTSIDE_TOP = 3
RECENT = 64  # questions whose scores are kept (the matcher and the answerer both ask about the same text)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


@dataclass(frozen=True)
class Passage:
    """A piece of the guide that can be said as an answer, with its search terms."""

    step: int
    kind: str
    text: str  # what is said when this passage answers
    terms: Counter[str]


@dataclass(frozen=True)
class View:
    """A short text that stands for a passage when comparing meanings (a faq question, a sentence)."""

    passage: int  # index into GuideIndex.passages
    text: str


@dataclass(frozen=True)
class StepMatch:
    """How well one step speaks to a question."""

    step: int
    score: float  # the blended score (meaning and words); BM25 coverage 0..1 without the encoder
    passage: Passage  # what to say from this step


@dataclass(frozen=True)
class Ranking:
    """Every step that shares anything with a question, best first."""

    steps: tuple[StepMatch, ...]
    semantic: bool  # meaning took part (the encoder is installed)
    # how much closer the question is in meaning to the not-covered examples than to the guide's views
    # (positive: closer to what the guide does not cover); -1.0 without the encoder or the examples
    outside: float = -1.0

    @property
    def best(self) -> StepMatch | None:
        return self.steps[0] if self.steps else None

    @property
    def margin(self) -> float:
        """How far the best step is ahead of the second."""
        if not self.steps:
            return 0.0
        return self.steps[0].score - (self.steps[1].score if len(self.steps) > 1 else 0.0)


@dataclass(frozen=True)
class _Language:
    stopwords: frozenset[str]
    groups: dict[str, str]  # stem -> group name


@lru_cache(maxsize=1)
def _language() -> _Language:
    data = packaged_yaml("voicecoach.understanding", "language.yaml")
    assert all(isinstance(w, str) for w in data["stopwords"]), "quote yes/no/on/off in language.yaml"
    groups: dict[str, str] = {}
    for words in data["synonyms"]:
        for word in words:
            for token in tokenize(word):
                groups.setdefault(stem(token), "#" + words[0])
    return _Language(frozenset(data["stopwords"]), groups)


@lru_cache(maxsize=1)
def _asked() -> tuple[frozenset[str], tuple[tuple[str, tuple[int, ...]], ...], tuple[str, ...]]:
    """How listeners really ask (question_examples.yaml, from the benchmark's tuning halves): the guides they
    are written for, questions the guide answers with their steps, and questions it does not cover."""
    data = packaged_yaml("voicecoach.understanding", "question_examples.yaml")
    asked = tuple((str(a["text"]), tuple(int(s) for s in a["steps"])) for a in data["asked"])
    return frozenset(data["guides"]), asked, tuple(str(t) for t in data["not_covered"])


@lru_cache(maxsize=1)
def _not_covered() -> tuple[frozenset[str], tuple[str, ...]]:
    """The guides the not-covered examples are written for, and the examples."""
    data = packaged_yaml("voicecoach.understanding", "not_covered.yaml")
    return frozenset(data["guides"]), tuple(str(e) for e in data["examples"])


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


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


class GuideIndex:
    """One guide's passages, searchable by words (BM25) and, with the encoder, by meaning."""

    def __init__(self, guide: Guide) -> None:
        self.guide = guide
        self.passages: list[Passage] = []
        self.views: list[View] = []
        for step in guide.steps:
            self._index_step(step)
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
        self._view_passages = np.array([v.passage for v in self.views])
        self._step_numbers = np.array([step.number for step in guide.steps])
        # each step's passages as one row, padded with a passage that never wins (index `count`)
        rows = [[at for at, p in enumerate(self.passages) if p.step == step.number] for step in guide.steps]
        width = max((len(row) for row in rows), default=1)
        self._step_passages = np.array([row + [count] * (width - len(row)) for row in rows], dtype=int)
        self._term_rows = {t: i for i, t in enumerate(self.idf)}
        self._bm25_weights = self._weights()
        self._vectors: np.ndarray | None = None
        self._vectors_loaded = False
        self._classifier: StepClassifier | None = None
        self._outside: np.ndarray | None = None
        self._outside_loaded = False
        self._recent: OrderedDict[str, Ranking] = OrderedDict()

    def _index_step(self, step: Step) -> None:
        n = step.number
        for faq in step.faq:
            # the question counts twice: a listener's question is most like the question written
            at = self._add(n, "faq", faq.answer, f"{faq.question} {faq.question} {faq.answer}")
            self._view(at, faq.question, f"{faq.question} {faq.answer}")
        for concept in step.concepts:
            at = self._add(n, "concept", concept.explanation, " ".join(concept.names) + " " + concept.explanation)
            self._view(at, ", ".join(concept.names), *sentences(concept.explanation))
        for example in step.examples:
            self._view(self._add(n, "example", example, example), example)
        at = self._add(n, "summary", step.summary, f"{step.title} {step.title} {step.summary}")
        self._view(at, step.title, step.summary, step.reflection)
        for paragraph in step.body:
            at = self._add(n, "body", paragraph, paragraph)
            self._view(at, paragraph, *sentences(paragraph))

    def _weights(self) -> np.ndarray:
        """BM25 weight of every term in every passage (terms x passages, plus one empty passage)."""
        weights = np.zeros((len(self._term_rows), len(self.passages) + 1), dtype=np.float32)
        for at, passage in enumerate(self.passages):
            length = sum(passage.terms.values())
            for term, tf in passage.terms.items():
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / self.average_length))
                weights[self._term_rows[term], at] = self.idf[term] * norm * KIND_WEIGHT[passage.kind]
        return weights

    def _add(self, step: int, kind: str, text: str, searchable: str) -> int:
        self.passages.append(Passage(step, kind, text, Counter(terms(searchable))))
        return len(self.passages) - 1

    def _view(self, passage: int, *texts: str) -> None:
        for text in dict.fromkeys(texts):
            self.views.append(View(passage, text))

    def vectors(self) -> np.ndarray | None:
        """The views' unit vectors (encoded once, cached on disk), or None without the encoder. With them come
        the views of how listeners really ask (question_examples.yaml), when written for this guide."""
        if semantic.standing_aside():
            return None
        if not self._vectors_loaded:
            vectors = semantic.example_vectors(f"guide-{self.guide.id}", [v.text for v in self.views])
            self._vectors = None if vectors is None else self._with_asked(vectors)
            self._vectors_loaded = True
        return self._vectors

    def _with_asked(self, vectors: np.ndarray) -> np.ndarray:
        """The guide's view vectors followed by those of listeners' questions the guide answers: each becomes a
        view of the passage of its step nearest to it in meaning (what is said when it is matched)."""
        guides, asked, _ = _asked()
        steps = {int(n) for n in self._step_numbers}
        asked = tuple((text, [s for s in numbers if s in steps]) for text, numbers in asked)
        asked = tuple((text, numbers) for text, numbers in asked if numbers)
        if self.guide.id not in guides or not asked:
            return vectors
        questions = semantic.example_vectors(f"asked-{self.guide.id}", [text for text, _ in asked])
        if questions is None:
            return vectors
        closest = np.full(len(self.passages) + 1, -2.0)
        rows, passages = [], []
        for (text, numbers), vector in zip(asked, questions):
            closest.fill(-2.0)
            np.maximum.at(closest, self._view_passages[: len(vectors)], vectors @ vector)
            for number in numbers:
                row = self._step_passages[int(np.searchsorted(self._step_numbers, number))]
                at = int(row[np.argmax(closest[row])])
                self.views.append(View(at, text))
                rows.append(vector)
                passages.append(at)
        self._view_passages = np.concatenate([self._view_passages, np.array(passages, dtype=int)])
        return np.vstack([vectors, np.array(rows)])

    def classifier(self) -> StepClassifier | None:
        """The step classifier trained on the views, or None without the encoder."""
        vectors = self.vectors()
        if vectors is not None and self._classifier is None:
            labels = np.array([self.passages[at].step for at in self._view_passages])
            self._classifier = step_classifier(f"guide-{self.guide.id}", tuple(int(n) for n in self._step_numbers),
                                               vectors, labels)
        return self._classifier

    def outside_vectors(self) -> np.ndarray | None:
        """The not-covered examples' unit vectors (ours, then listeners' from question_examples.yaml) when they
        are written for this guide, else None."""
        if semantic.standing_aside():
            return None
        if not self._outside_loaded:
            parts = []
            ours, listeners = _not_covered(), (_asked()[0], _asked()[2])
            for (guides, examples), name in ((ours, "not-covered"), (listeners, "asked-not-covered")):
                if self.guide.id in guides and examples:
                    vectors = semantic.example_vectors(name, list(examples))
                    if vectors is not None:
                        parts.append(vectors)
            self._outside = np.vstack(parts) if parts else None
            self._outside_loaded = True
        return self._outside

    def search(self, question: str) -> tuple[Passage | None, float]:
        """The best passage and how confident the guide is that it answers (0..1, FOUND at 0.44 and up)."""
        from voicecoach.understanding.answers import confidence  # the scale's calibration lives there

        ranking = self.rank(question)
        best = ranking.best
        return (None, 0.0) if best is None else (best.passage, confidence(ranking))

    def rank(self, question: str) -> Ranking:
        """Every step that shares words or meaning with the question, best first."""
        # keyed by the words alone: the matcher asks with the transcript, the coach with its normalized
        # text, and the question is encoded and ranked once for both
        key = normalize(question)
        ranking = self._recent.get(key)
        if ranking is None:
            ranking = self._rank(question)
            self._recent[key] = ranking
            while len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        return ranking

    def _rank(self, question: str) -> Ranking:
        query = list(dict.fromkeys(terms(question)))
        lexical = self._lexical(query)  # step -> (passage index, bm25, coverage)
        vectors = self.vectors()
        vector = semantic.encode(question) if vectors is not None and question.strip() else None
        if vector is None:
            # words alone: the step of the best passage by BM25 first, scored by how much of the question it covers
            order = sorted(lexical.items(), key=lambda item: -item[1][1])
            matches = [StepMatch(step, coverage, self.passages[at]) for step, (at, _, coverage) in order]
            return Ranking(tuple(matches), semantic=False)
        similarity = vectors @ vector
        top_bm25 = max((bm25 for _, bm25, _ in lexical.values()), default=0.0)
        closest = np.full(len(self.passages) + 1, -2.0)  # each passage's best view; the padding never wins
        np.maximum.at(closest, self._view_passages, similarity)
        per_step = closest[self._step_passages]  # steps x passages
        order = np.argsort(-per_step, axis=1)[:, :TOP_PASSAGES]
        meaning = np.take_along_axis(per_step, order, axis=1)
        meaning = np.where(meaning > -2.0, meaning, np.nan)
        meaning = np.nan_to_num(np.nanmean(meaning, axis=1), nan=-1.0) if meaning.size else np.zeros(0)
        meaning = meaning + self._classifier_penalty(vector)
        matches = []
        for row, step in enumerate(self._step_numbers):
            at, bm25, coverage = lexical.get(int(step), (-1, 0.0, 0.0))
            score = meaning[row] + COVERAGE_WEIGHT * coverage + BM25_WEIGHT * (bm25 / top_bm25 if top_bm25 else 0.0)
            best = int(self._step_passages[row, order[row, 0]])
            if best < len(self.passages):
                matches.append(StepMatch(int(step), round(float(score), 4), self.passages[best]))
        return Ranking(tuple(sorted(matches, key=lambda m: -m.score)), semantic=True,
                       outside=self._outside_margin(similarity, vector))

    def _classifier_penalty(self, vector: np.ndarray) -> np.ndarray:
        """Per step, how much less likely the step classifier finds it than its favourite (0 for that one)."""
        classifier = self.classifier()
        if classifier is None:
            return np.zeros(len(self._step_numbers))
        probabilities = classifier.probabilities(vector)
        ratio = np.log(np.maximum(probabilities / probabilities.max(), 1e-12))
        return np.maximum(CLASSIFIER_WEIGHT * ratio, CLASSIFIER_FLOOR)

    def _outside_margin(self, similarity: np.ndarray, vector: np.ndarray) -> float:
        """How much closer the question is to the not-covered examples than to the guide (mean of the closest few)."""
        outside = self.outside_vectors()
        if outside is None or not len(similarity):
            return -1.0
        def nearest(values: np.ndarray) -> float:
            k = min(OUTSIDE_TOP, len(values))
            return float(np.partition(values, len(values) - k)[-k:].mean())
        return round(nearest(outside @ vector) - nearest(similarity), 4)

    def _lexical(self, query: list[str]) -> dict[int, tuple[int, float, float]]:
        """Per step: its best passage by BM25, that score, and the share of the question it covers.

        A lone shared word counts only when it is a key term of the guide (a title, concept name or faq
        question word, or one of a group of synonyms): "taxes on cars" does not match an example that
        happens to mention a car.
        """
        rows = [self._term_rows[t] for t in query if t in self._term_rows]
        best: dict[int, tuple[int, float]] = {}
        if rows:
            scores = self._bm25_weights[rows].sum(axis=0)[self._step_passages]  # steps x passages
            tops = scores.argmax(axis=1)
            for row, step in enumerate(self._step_numbers):
                score = float(scores[row, tops[row]])
                if score > 0:
                    best[int(step)] = (int(self._step_passages[row, tops[row]]), score)
        result = {}
        for step, (at, score) in best.items():
            passage = self.passages[at]
            shared = [t for t in query if t in passage.terms and not t.startswith("#")]
            groups = [t for t in query if t in passage.terms and t.startswith("#")]
            lone = len(shared) + len(groups) < 2 and not (set(shared) & self.key_terms or groups)
            result[step] = (at, score, 0.0 if lone else self._coverage(query, passage))
        return result

    def content_word_count(self, text: str) -> int:
        """How many distinct content words (not stopwords) a text has."""
        return len({t for t in terms(text) if not t.startswith("#")})

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
