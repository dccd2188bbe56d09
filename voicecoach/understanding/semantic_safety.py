"""A second safety check by meaning: a logistic layer over the sentence encoder's vector, trained on examples
of danger and of harmless talk that only looks like it, decides how likely an utterance reveals danger.

It catches what the patterns in safety.yaml cannot spell out ("i'm scared he'll come home drunk again
tonight"). Likely danger goes straight to the safety path; possible danger makes the coach ask first
("are you safe right now?"), since a needless question costs a moment and a missed crisis costs far more.
Without the sentence encoder (model not installed) it stays silent and the patterns decide.

The layer is trained when its examples change (a few seconds, once) and cached beside the example vectors.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml

from voicecoach.understanding import semantic
from voicecoach.understanding.catalog import load_catalog

log = logging.getLogger(__name__)

# Probabilities chosen by cross-validation on the training examples (bench/safety_layer.py):
LIKELY = 0.80  # at or above: the safety path at once
POSSIBLE = 0.50  # at or above: the coach asks whether the listener is safe
MIN_WORDS = 3  # "stop", "go back" and other short commands never reach it

# Training: examples weigh by how much a mistake on them costs. Harmless look-alikes weigh more than
# danger (a false alarm on "this traffic is killing me" is the failure people notice), the command
# catalog less (it is many and far from danger).
WEIGHTS = {"danger": 1.0, "harmless": 2.0, "commands": 0.5}
L2 = 0.1  # ridge penalty on the weights (not the bias)
EXAMPLE_FILES = ("safety_examples.yaml", "safety_training_danger.yaml", "safety_training_harmless.yaml")
LAYER_VERSION = "logistic-v1"


@dataclass(frozen=True)
class Layer:
    weights: np.ndarray  # (d,)
    bias: float

    def probability(self, vectors: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(vectors @ self.weights + self.bias)))


def semantic_concern(text: str) -> float | None:
    """The probability that the utterance reveals danger when it is at least POSSIBLE, else None."""
    if len(text.split()) < MIN_WORDS:
        return None
    layer = trained_layer()
    vector = semantic.encode(text) if layer is not None else None
    if vector is None:
        return None
    probability = float(layer.probability(vector[None, :])[0])
    return round(probability, 3) if probability >= POSSIBLE else None


def is_likely(probability: float) -> bool:
    """Whether a probability from semantic_concern is high enough to act without asking first."""
    return probability >= LIKELY


def example_texts() -> dict[str, list[str]]:
    """The training texts by kind: danger, harmless look-alikes, and the command catalog's phrasings."""
    texts: dict[str, list[str]] = {"danger": [], "harmless": [], "commands": list(load_catalog().fixed)}
    folder = resources.files("voicecoach.understanding")
    for name in EXAMPLE_FILES:
        if not folder.joinpath(name).is_file():
            continue
        data = yaml.safe_load(folder.joinpath(name).read_text("utf-8")) or {}
        for kind, key in (("danger", "danger"), ("harmless", "not_danger"), ("harmless", "harmless")):
            texts[kind] += [str(t) for t in _flatten(data.get(key))]
    return texts


def _flatten(value) -> list:
    """A list of texts, or a mapping of categories to lists of texts."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [t for texts in value.values() for t in texts]
    return list(value)


@lru_cache(maxsize=1)
def trained_layer() -> Layer | None:
    texts = example_texts()
    vectors = {kind: semantic.example_vectors(f"safety-{kind}", items) for kind, items in texts.items()}
    if any(v is None for v in vectors.values()):
        return None
    key = hashlib.sha256("\n".join([LAYER_VERSION, repr(WEIGHTS), repr(L2),
                                    *(t for kind in sorted(texts) for t in texts[kind])]).encode()).hexdigest()[:16]
    cached = semantic.load_array(f"safety-layer-{key}")
    if cached is not None and cached.ndim == 1:
        return Layer(cached[:-1], float(cached[-1]))
    log.info("training the semantic safety layer once (cached)")
    matrix = np.vstack([vectors["danger"], vectors["harmless"], vectors["commands"]])
    labels = np.r_[np.ones(len(vectors["danger"])), np.zeros(len(vectors["harmless"]) + len(vectors["commands"]))]
    weights = np.r_[np.full(len(vectors["danger"]), WEIGHTS["danger"]),
                    np.full(len(vectors["harmless"]), WEIGHTS["harmless"]),
                    np.full(len(vectors["commands"]), WEIGHTS["commands"])]
    layer = train_logistic(matrix, labels, weights, L2)
    semantic.save_array(f"safety-layer-{key}", np.r_[layer.weights, layer.bias])
    return layer


def train_logistic(matrix: np.ndarray, labels: np.ndarray, weights: np.ndarray, l2: float,
                   iterations: int = 30) -> Layer:
    """Weighted, ridge-penalised logistic regression by Newton's method (converges in about ten steps)."""
    features = np.hstack([matrix, np.ones((len(matrix), 1))])
    beta = np.zeros(features.shape[1])
    penalty = l2 * np.eye(features.shape[1])
    penalty[-1, -1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(features @ beta)))
        gradient = features.T @ (weights * (p - labels)) + penalty @ beta
        hessian = (features * (weights * p * (1 - p))[:, None]).T @ features + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-6:
            break
    return Layer(beta[:-1].copy(), float(beta[-1]))
