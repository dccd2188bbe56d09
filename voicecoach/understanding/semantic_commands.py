"""Commands by meaning: a softmax layer over sentence vectors, trained on our own example phrasings of each
intent (semantic_commands.yaml) and a sample of the catalog's, beside examples of speech that is no command
("none") and of questions for the guide ("question"). An utterance the words did not match takes an intent
only when the layer is sure of it, sure enough over the runner-up, and the utterance is near an example of
that intent; otherwise it stays with the words-only path. None without the sentence encoder."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from voicecoach.datafile import packaged_yaml
from voicecoach.understanding import semantic
from voicecoach.understanding.catalog import load_catalog
from voicecoach.understanding.linear import softmax, train_softmax
from voicecoach.understanding.text import normalize, tokenize

NOT_COMMANDS = ("none", "question", "distress")
MIN_WORDS = 4  # shorter commands are the catalog's; short everyday phrases ("back off") are too easily alike
MAX_WORDS = 14  # longer speech is a question or a story, not a command
CATALOG_SAMPLE = 40  # catalog phrasings per intent added to our examples
# Calibrated on the tuning halves: read alone, every tuning command as if its words had missed it, 147 of 392
# right and 2 wrong (the rest too short, with words no command uses, or not sure: the catalog's); of the
# utterances to ignore and the questions that reach this step, 2 of 136 and 0 of 206 taken.
MIN_PROBABILITY = 0.5
MIN_MARGIN = 0.3  # over the second most likely class, "none" and "question" included
MIN_NEAREST = 0.6  # cosine to the closest example of the chosen intent
MIN_GAP_OVER_NONE = 0.05  # ... and that much closer than to any example of speech that is not a command
# On the tuning halves, 3 of the 5 utterances to ignore that the question path took, and 1 of 130 questions.
EVERYDAY_OVER_QUESTION = 0.15
SCALE = 12.0  # sentence vectors are unit length; scaled, a linear layer can be sure of itself
L2 = 1e-4
EPOCHS = 400
LEARNING_RATE = 1.0
CATALOG_WEIGHT = 0.5  # the catalog's phrasings are many and alike; ours count double


@dataclass(frozen=True)
class Guess:
    """The layer's reading of one utterance."""

    intent: str  # an intent name, "none" or "question"
    probability: float
    margin: float  # over the runner-up
    nearest: float  # cosine to the closest example of that intent
    nearest_not_command: float  # cosine to the closest example of "none" or "question"
    nearest_command: float = 0.0  # cosine to the closest example of any command

    def is_command(self) -> bool:
        return (self.intent not in NOT_COMMANDS and self.probability >= MIN_PROBABILITY
                and self.margin >= MIN_MARGIN and self.nearest >= MIN_NEAREST
                and self.nearest - self.nearest_not_command >= MIN_GAP_OVER_NONE)


@dataclass(frozen=True)
class Layer:
    """A trained softmax layer and the example vectors it was trained on."""

    classes: tuple[str, ...]
    weights: np.ndarray  # (dimensions + 1, classes)
    examples: np.ndarray  # (examples, dimensions)
    example_class: np.ndarray  # (examples,) index into classes

    def guess(self, vector: np.ndarray) -> Guess:
        probabilities = softmax(np.append(SCALE * vector, 1.0) @ self.weights)
        order = np.argsort(probabilities)[::-1]
        best = int(order[0])
        # einsum, not BLAS: on a busy small machine a threaded matrix-vector product costs milliseconds
        similarity = np.einsum("ij,j->i", self.examples, vector)
        not_command = np.isin(self.example_class, [self.classes.index(name) for name in NOT_COMMANDS])
        return Guess(self.classes[best], float(probabilities[best]),
                     float(probabilities[best] - probabilities[order[1]]),
                     float(similarity[self.example_class == best].max()), float(similarity[not_command].max()),
                     float(similarity[~not_command].max()))


def semantic_guess(text: str) -> Guess | None:
    """The layer's reading of an utterance of at most MAX_WORDS words, or None (too long, no encoder)."""
    if not MIN_WORDS <= len(tokenize(text)) <= MAX_WORDS:
        return None
    layer = trained_layer()
    vector = semantic.encode(text) if layer is not None else None
    return None if vector is None else layer.guess(vector)


def is_everyday_talk(text: str) -> bool:
    """Whether an utterance is clearly nearer our everyday examples ("can you hear me now") than our questions
    about relationships: then it is not a question for the guide. False without the encoder."""
    layer = trained_layer()
    vector = semantic.encode(text) if layer is not None else None
    if vector is None:
        return False
    similarity = np.einsum("ij,j->i", layer.examples, vector)
    everyday = similarity[layer.example_class == layer.classes.index("none")].max()
    question = similarity[layer.example_class == layer.classes.index("question")].max()
    return bool(everyday - question > EVERYDAY_OVER_QUESTION)


def command_likeness(text: str) -> float | None:
    """Cosine of the utterance to the closest example of any command (any length; the vector is the one safety by
    meaning encoded), or None without the encoder."""
    layer = trained_layer()
    vector = semantic.encode(text) if layer is not None else None
    if vector is None:
        return None
    return layer.guess(vector).nearest_command


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
