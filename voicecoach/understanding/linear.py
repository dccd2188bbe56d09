"""A softmax layer over scaled sentence vectors, trained in numpy by full-batch gradient descent: the one
trainer behind commands by meaning (semantic_commands.py) and the step classifier (step_classifier.py)."""

from __future__ import annotations

import numpy as np


def train_softmax(vectors: np.ndarray, labels: np.ndarray, sample_weights: np.ndarray, classes: int, *,
                  scale: float, l2: float, epochs: int, learning_rate: float) -> np.ndarray:
    """Weighted multinomial logistic regression, classes balanced: (dimensions + 1, classes) weights over
    `scale * vector` and a bias input of 1."""
    inputs = np.hstack([scale * vectors, np.ones((len(vectors), 1))])
    targets = np.eye(classes)[labels]
    counts = np.bincount(labels, weights=sample_weights, minlength=classes)
    weight = sample_weights / counts[labels] * (len(labels) / classes)
    weight = weight / weight.sum()
    weights = np.zeros((inputs.shape[1], classes))
    for _ in range(epochs):
        probabilities = softmax(inputs @ weights)
        gradient = inputs.T @ ((probabilities - targets) * weight[:, None]) + l2 * weights
        weights -= learning_rate * gradient
    return weights


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
