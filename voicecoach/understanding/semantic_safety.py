"""A second safety check by meaning: an utterance close to an example of danger (safety_examples.yaml) and
clearly closer to it than to anything harmless (near-misses, the command catalog) reaches the safety path.

It catches what the patterns in safety.yaml cannot spell out ("help me he's coming back"). It needs the
sentence encoder; without it (model not installed) it stays silent and the patterns alone decide.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from voicecoach.understanding.catalog import load_catalog

log = logging.getLogger(__name__)

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
    if examples is None:
        return None
    vector = _encode(text)
    danger = float((examples.danger @ vector).max())
    harmless = float((examples.harmless @ vector).max())
    if danger >= MIN_SIMILARITY and danger - harmless >= MIN_MARGIN:
        return round(danger, 3)
    return None


@lru_cache(maxsize=256)
def _encode(text: str) -> np.ndarray:
    encoder = _encoder()
    assert encoder is not None
    return encoder.encode([text])[0]


@lru_cache(maxsize=1)
def _encoder():
    from voicecoach.understanding.encoder import load_encoder

    return load_encoder()


@lru_cache(maxsize=1)
def _examples() -> _Examples | None:
    encoder = _encoder()
    if encoder is None:
        return None
    data = yaml.safe_load(resources.files("voicecoach.understanding").joinpath("safety_examples.yaml")
                          .read_text("utf-8"))
    danger = [str(t) for t in data["danger"]]
    harmless = [str(t) for t in data["not_danger"]] + list(load_catalog().fixed)
    key = hashlib.sha256("\n".join(["minilm-v1", *danger, "--", *harmless]).encode()).hexdigest()[:16]
    path = _cache_folder() / f"safety-examples-{key}.npz"
    try:
        with np.load(path) as stored:
            return _Examples(stored["danger"], stored["harmless"])
    except (OSError, ValueError, KeyError):
        pass
    log.info("encoding %d safety examples once (cached in %s)", len(danger) + len(harmless), path)
    examples = _Examples(encoder.encode(danger), encoder.encode(harmless))
    _save(path, examples)
    return examples


def _cache_folder() -> Path:
    from voicecoach.assets.verify import hash_cache_path

    return hash_cache_path().parent


def _save(path: Path, examples: _Examples) -> None:
    """Write the cache atomically; a cache that cannot be written only costs time at the next start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz.part")
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, danger=examples.danger, harmless=examples.harmless)
        os.replace(temporary, path)
    except OSError as error:
        log.warning("could not cache the safety examples in %s: %s", path, error)
