"""Which step a question belongs to, as a whole: a softmax layer over sentence vectors, trained on the guide's
own views (faq questions, concept names, sentences of examples and step text), each labelled with its step.
Nearest views find the passage to say; this layer weighs everything a step says at once, so a question that
happens to sit near one stray sentence of another step is not carried off by it. Trained once per guide and
kept on disk beside the example vectors."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from voicecoach.understanding import semantic
from voicecoach.understanding.linear import softmax, train_softmax

SCALE = 20.0  # sentence vectors are unit length; scaled, a linear layer can be sure of itself
L2 = 1e-3
EPOCHS = 300
LEARNING_RATE = 1.0


@dataclass(frozen=True)
class StepClassifier:
    """A trained layer: one column of weights per step, in the order of `steps`."""

    steps: tuple[int, ...]
    weights: np.ndarray  # (dimensions + 1, steps)

    def probabilities(self, vector: np.ndarray) -> np.ndarray:
        """The probability of each step (in the order of `steps`) for one unit vector."""
        # einsum, not BLAS: a threaded matrix-vector product costs milliseconds on a busy small machine
        scores = np.einsum("ij,i->j", self.weights[:-1], SCALE * vector) + self.weights[-1]
        return softmax(scores)


def step_classifier(name: str, steps: tuple[int, ...], vectors: np.ndarray, labels: np.ndarray) -> StepClassifier:
    """The layer for these vectors and labels (step numbers), from the disk cache when it was trained before."""
    key = hashlib.sha256(repr((steps, SCALE, L2, EPOCHS, LEARNING_RATE)).encode() + vectors.tobytes()
                         + labels.tobytes()).hexdigest()[:16]
    cached = f"{name}-steps-{key}"
    weights = semantic.load_array(cached)
    if weights is None or weights.shape != (vectors.shape[1] + 1, len(steps)):
        classes = np.searchsorted(np.array(steps), labels)
        weights = train_softmax(vectors, classes, np.ones(len(classes)), len(steps), scale=SCALE, l2=L2, epochs=EPOCHS,
                                learning_rate=LEARNING_RATE)
        semantic.save_array(cached, weights)
    return StepClassifier(steps, weights)
