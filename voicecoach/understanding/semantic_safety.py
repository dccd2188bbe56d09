"""A second safety check by meaning: an utterance close to an example of danger (safety_examples.yaml) and
clearly closer to it than to anything harmless (near-misses, the command catalog) reaches the safety path.

It catches what the patterns in safety.yaml cannot spell out ("i'm scared he'll come home drunk again
tonight"). Without the sentence encoder (model not installed) it stays silent and the patterns decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml

from voicecoach.understanding import semantic
from voicecoach.understanding.catalog import load_catalog

MIN_SIMILARITY = 0.45  # cosine to the nearest example of danger (leave-one-out on the tuning half)
MIN_MARGIN = 0.15  # ... and this much closer to it than to any harmless example (no near-miss fires, leave-one-out)
MIN_WORDS = 3  # "stop", "go back" and other short commands never reach it


@dataclass(frozen=True)
class _Examples:
    danger: np.ndarray  # (n, d) unit rows
    harmless: np.ndarray


def semantic_concern(text: str) -> float | None:
    """The similarity to the nearest example of danger when the utterance means danger, else None."""
    if len(text.split()) < MIN_WORDS:
        return None
    examples = _examples()
    vector = semantic.encode(text)
    if examples is None or vector is None:
        return None
    danger = float((examples.danger @ vector).max())
    harmless = float((examples.harmless @ vector).max())
    if danger >= MIN_SIMILARITY and danger - harmless >= MIN_MARGIN:
        return round(danger, 3)
    return None


@lru_cache(maxsize=1)
def _examples() -> _Examples | None:
    data = yaml.safe_load(resources.files("voicecoach.understanding").joinpath("safety_examples.yaml")
                          .read_text("utf-8"))
    danger = semantic.example_vectors("safety-danger", [str(t) for t in data["danger"]])
    harmless = semantic.example_vectors("safety-harmless",
                                        [str(t) for t in data["not_danger"]] + list(load_catalog().fixed))
    return None if danger is None or harmless is None else _Examples(danger, harmless)
