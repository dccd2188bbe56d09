"""Commands by meaning: a softmax layer over sentence vectors, trained on our own example phrasings of each
intent (semantic_commands.yaml) and a sample of the catalog's, beside examples of speech that is no command
("none") and of questions for the guide ("question"). An utterance the words did not match takes an intent
only when the layer is sure of it, sure enough over the runner-up, and the utterance is near an example of
that intent (a command after an aside is read from the words after it); otherwise it stays with the words-only
path. The same reading tells the question gate when a statement is everyday talk. None without the sentence
encoder."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from voicecoach.datafile import packaged_yaml
from voicecoach.understanding import semantic
from voicecoach.understanding.catalog import load_catalog
from voicecoach.understanding.linear import softmax, train_softmax
from voicecoach.understanding.text import normalize, tokenize

NOT_COMMANDS = ("none", "question", "distress")
# Commands about something: by meaning, every word must be one commands use ("summarize the news" is not for us);
# the others may hold one word of their own ("stop talking for a little while"), a sure guess two.
ABOUT_SOMETHING = frozenset({"summary", "example", "more", "explain", "overview", "help"})
MIN_WORDS = 2  # a single word is the catalog's alone ("back", "more"): too easily meant for someone else
SHORT_WORDS = 4  # shorter utterances ("no more today") need a surer guess: short everyday phrases are alike
MAX_WORDS = 18  # longer speech is a question or a story, not a command (14 before: 8 fewer commands)
CATALOG_SAMPLE = 100  # catalog phrasings per intent added to our examples
# Thresholds chosen by leaving each blind batch's tuning half out of the examples in turn and scoring it
# (fourth, fifth and sixth: 810 commands, 300 utterances to ignore, 201 questions, 60 uncovered), beside the
# older sets' tuning halves: the most commands taken without taking more of the others. Each figure below is
# what a rule adds there; none of them took an utterance to ignore or lost a question.
MIN_PROBABILITY = 0.5
MIN_MARGIN = 0.2  # over the second most likely class, "none" and "question" included
MIN_NEAREST = 0.55  # cosine to the closest example of the chosen intent
MIN_GAP_OVER_NONE = 0.05  # ... and that much closer than to any example of speech that is not a command
# A sure guess ("okay that's me sorted with that one onto the next") may be further from our examples and carry
# one more word no command uses (5 commands).
SURE_PROBABILITY = 0.9
SURE_MARGIN = 0.6
SURE_NEAREST = 0.5
SHORT_MIN_PROBABILITY = 0.8  # from MIN_WORDS to SHORT_WORDS words, with MIN_NEAREST and no unknown word (5)
# A command after an aside ("sorry the dog was barking take me back one"): the words after the aside's last
# unknown word, read alone, are a command this sure and this near an example, and the whole utterance is one
# too or is no likelier than ASIDE_MAX_NOT_COMMAND to be anything else (15 commands; reading also the words from
# one or two later starts took one more, for two more sentence encodings).
ASIDE_MIN_PROBABILITY = 0.8
ASIDE_MIN_NEAREST = 0.55
ASIDE_MAX_NOT_COMMAND = 0.3
ASIDE_MIN_WORDS = 2
# On the tuning halves, 3 of the 5 utterances to ignore that the question path took, and 1 of 130 questions.
EVERYDAY_OVER_QUESTION = 0.15
# A statement (it asks nothing) is no question for the guide when the layer finds everyday talk likelier than a
# question, or it is this much nearer our everyday examples than our questions (by leaving batches out as above:
# 7 of 300 utterances to ignore declined, 2 of 201 questions lost).
STATEMENT_EVERYDAY_GAP = 0.05
RECENT = 64  # readings kept by utterance text
SCALE = 12.0  # sentence vectors are unit length; scaled, a linear layer can be sure of itself
L2 = 1e-4
EPOCHS = 400
LEARNING_RATE = 1.0
# the catalog's phrasings are many and alike; ours count four times (with CATALOG_SAMPLE, 14 more commands than
# 40 phrasings at half weight, and one more of the older sets' 352 utterances to ignore taken)
CATALOG_WEIGHT = 0.25


@dataclass(frozen=True)
class Guess:
    """The layer's reading of one utterance."""

    intent: str  # an intent name, "none" or "question"
    probability: float
    margin: float  # over the runner-up
    nearest: float  # cosine to the closest example of that intent
    nearest_not_command: float  # cosine to the closest example of "none" or "question"
    nearest_command: float = 0.0  # cosine to the closest example of any command
    not_command: float = 0.0  # probability of "none", "question" and "distress" together
    nearest_everyday: float = 0.0  # cosine to the closest example of "none"
    nearest_question: float = 0.0  # cosine to the closest example of "question"
    everyday_probability: float = 0.0
    question_probability: float = 0.0

    def is_command(self, words: int = SHORT_WORDS, unknown: int = 0) -> bool:
        """Whether the layer is sure of a command in an utterance of this many words, `unknown` of them words no
        command uses: sure over the runner-up and nearer an example of the intent than of speech that is no
        command; surer for short utterances; a very sure guess may be a little further from the examples and,
        unless it is a command about something ("summarize the news"), hold one more unknown word."""
        if (self.intent in NOT_COMMANDS or self.margin < MIN_MARGIN
                or self.nearest - self.nearest_not_command < MIN_GAP_OVER_NONE):
            return False
        if words < SHORT_WORDS:
            return unknown == 0 and self.probability >= SHORT_MIN_PROBABILITY and self.nearest >= MIN_NEAREST
        allowed = 0 if self.intent in ABOUT_SOMETHING else 1
        if unknown <= allowed and self.probability >= MIN_PROBABILITY and self.nearest >= MIN_NEAREST:
            return True
        return (unknown <= 2 * allowed and self.probability >= SURE_PROBABILITY and self.margin >= SURE_MARGIN
                and self.nearest >= SURE_NEAREST)

    def may_end_in_command(self) -> bool:
        """Whether, read as a whole, the utterance may hold a command after an aside: a command is what the layer
        finds likeliest, or anything else is no likelier than ASIDE_MAX_NOT_COMMAND."""
        return self.intent not in NOT_COMMANDS or self.not_command <= ASIDE_MAX_NOT_COMMAND

    def is_command_after_aside(self, whole: Guess) -> bool:
        """Whether this reading of the words after an aside is a command, given the whole utterance's reading."""
        return (self.intent not in NOT_COMMANDS and self.probability >= ASIDE_MIN_PROBABILITY
                and self.nearest >= ASIDE_MIN_NEAREST and self.nearest >= self.nearest_not_command
                and (whole.intent == self.intent or whole.not_command <= ASIDE_MAX_NOT_COMMAND))


@dataclass(frozen=True)
class Layer:
    """A trained softmax layer and the example vectors it was trained on."""

    classes: tuple[str, ...]
    weights: np.ndarray  # (dimensions + 1, classes)
    examples: np.ndarray  # (examples, dimensions)
    example_class: np.ndarray  # (examples,) index into classes

    def probabilities(self, vector: np.ndarray) -> np.ndarray:
        return softmax(np.append(SCALE * vector, 1.0) @ self.weights)

    def guess(self, vector: np.ndarray) -> Guess:
        probabilities = self.probabilities(vector)
        order = np.argsort(probabilities)[::-1]
        best = int(order[0])
        # einsum, not BLAS: on a busy small machine a threaded matrix-vector product costs milliseconds
        similarity = np.einsum("ij,j->i", self.examples, vector)
        not_commands = [self.classes.index(name) for name in NOT_COMMANDS]
        not_command = np.isin(self.example_class, not_commands)
        everyday, question = self.classes.index("none"), self.classes.index("question")
        return Guess(self.classes[best], float(probabilities[best]),
                     float(probabilities[best] - probabilities[order[1]]),
                     float(similarity[self.example_class == best].max()), float(similarity[not_command].max()),
                     float(similarity[~not_command].max()), float(probabilities[not_commands].sum()),
                     float(similarity[self.example_class == everyday].max()),
                     float(similarity[self.example_class == question].max()),
                     float(probabilities[everyday]), float(probabilities[question]))


def semantic_guess(text: str, min_words: int = MIN_WORDS) -> Guess | None:
    """The layer's reading of an utterance of min_words to MAX_WORDS words, or None (too short or long, no
    encoder)."""
    if not min_words <= len(tokenize(text)) <= MAX_WORDS:
        return None
    return _reading(text)


def is_everyday_talk(text: str) -> bool:
    """Whether an utterance is clearly nearer our everyday examples ("can you hear me now") than our questions
    about relationships: then it is not a question for the guide. False without the encoder."""
    reading = _reading(text)
    return reading is not None and reading.nearest_everyday - reading.nearest_question > EVERYDAY_OVER_QUESTION


def is_everyday_statement(text: str) -> bool:
    """Whether a statement (it asks nothing) is everyday talk rather than something for the guide: the layer
    finds "none" likelier than "question", or it is STATEMENT_EVERYDAY_GAP nearer our everyday examples than our
    questions. False without the encoder."""
    reading = _reading(text)
    return reading is not None and (reading.everyday_probability > reading.question_probability
                                    or reading.nearest_everyday - reading.nearest_question > STATEMENT_EVERYDAY_GAP)


def command_likeness(text: str) -> float | None:
    """Cosine of the utterance to the closest example of any command (any length; the vector is the one safety by
    meaning encoded), or None without the encoder."""
    reading = _reading(text)
    return None if reading is None else reading.nearest_command


_readings: OrderedDict[str, tuple[Layer, Guess]] = OrderedDict()
_readings_lock = threading.Lock()


def _reading(text: str) -> Guess | None:
    """The layer's reading of an utterance of any length, or None without the encoder (or while the layer is
    built in the background). The last RECENT readings are kept: the matcher and the question gate ask about
    the same utterance several times."""
    layer = ready_layer()
    if layer is None:
        return None
    with _readings_lock:
        kept = _readings.get(text)
        if kept is not None and kept[0] is layer:
            _readings.move_to_end(text)
            return kept[1]
    vector = semantic.encode(text)
    if vector is None:
        return None
    guess = layer.guess(vector)
    with _readings_lock:
        _readings[text] = (layer, guess)
        if len(_readings) > RECENT:
            _readings.popitem(last=False)
    return guess


def unknown_words(text: str) -> list[str]:
    """The utterance's content words that no command phrasing or example uses ("summarize the news": news);
    a command by meaning has none, so a command word with a foreign object stays with the words-only path."""
    known = _command_vocabulary()
    return [w for w in tokenize(text) if w not in known]


@lru_cache(maxsize=1)
def _command_vocabulary() -> frozenset[str]:
    texts = example_texts()
    words = {w for name, items in texts.items() if name not in NOT_COMMANDS for t in items for w in tokenize(t)}
    words |= {w for phrase in load_catalog().all_fixed() for w in phrase.split()}
    words |= set(load_catalog().filler_words) | set(load_catalog().hesitations)
    language = packaged_yaml("voicecoach.understanding", "language.yaml")
    return frozenset(words | {normalize(w) for w in language["stopwords"]})


def example_texts() -> dict[str, list[str]]:
    """Training texts per class: ours from semantic_commands.yaml, then a spread sample of the catalog's."""
    data = packaged_yaml("voicecoach.understanding", "semantic_commands.yaml")
    texts: dict[str, list[str]] = {str(k): list(v) for k, v in data["intents"].items()}
    texts["none"] = list(data["none"])
    texts["question"] = list(data["question"])
    texts["distress"] = list(data["distress"])
    by_intent: dict[str, list[str]] = {}
    for phrase, intent in load_catalog().all_fixed().items():
        by_intent.setdefault(intent, []).append(phrase)
    for intent, phrases in by_intent.items():
        texts.setdefault(intent, []).extend(_stable_sample(phrases, CATALOG_SAMPLE))
    return texts


def _stable_sample(phrases: list[str], count: int) -> list[str]:
    """A spread sample chosen by a hash of each phrase, so adding phrasings to the catalog keeps the others'
    choice (a sample by position shifted with every addition, and the layer with it)."""
    return sorted(phrases, key=lambda p: hashlib.sha256(p.encode()).hexdigest())[:count]


def ready_layer() -> Layer | None:
    """The trained layer, or None while it is being built in the background: then the words alone answer, and
    the live loop never waits for it."""
    return None if semantic.standing_aside() else trained_layer()


@lru_cache(maxsize=1)
def trained_layer() -> Layer | None:
    """The layer, trained once on the examples (kept on disk, keyed on the examples and settings)."""
    texts = example_texts()
    classes = tuple(texts)
    flat = [t for name in classes for t in texts[name]]
    vectors = semantic.example_vectors("command-examples", flat)
    if vectors is None:
        return None
    labels = np.array([i for i, name in enumerate(classes) for _ in texts[name]])
    ours = _our_counts(texts)
    weights_per_example = np.array([1.0 if j < ours[name] else CATALOG_WEIGHT
                                    for name in classes for j in range(len(texts[name]))])
    settings = (classes, flat, SCALE, L2, EPOCHS, LEARNING_RATE, CATALOG_WEIGHT)
    key = hashlib.sha256(repr(settings).encode()).hexdigest()[:16]
    name = f"command-layer-{key}"
    weights = semantic.load_array(name)
    if weights is None or weights.shape != (vectors.shape[1] + 1, len(classes)):
        weights = train_softmax(vectors, labels, weights_per_example, len(classes), scale=SCALE, l2=L2, epochs=EPOCHS,
                                learning_rate=LEARNING_RATE)
        semantic.save_array(name, weights)
    return Layer(classes, weights, vectors, labels)


def _our_counts(texts: dict[str, list[str]]) -> dict[str, int]:
    """How many of each class's texts are ours (the rest, after them, are sampled from the catalog)."""
    data = packaged_yaml("voicecoach.understanding", "semantic_commands.yaml")
    ours = {str(k): len(v) for k, v in data["intents"].items()}
    ours.update(none=len(data["none"]), question=len(data["question"]), distress=len(data["distress"]))
    return {name: ours.get(name, 0) for name in texts}
