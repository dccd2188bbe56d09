"""The numpy all-MiniLM-L6-v2 encoder matches sentence-transformers' own vectors (recorded once with
torch, outside the project: data/minilm-reference.npz), batched or one at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voicecoach.assets import find_asset
from voicecoach.understanding import encoder as encoder_module
from voicecoach.understanding.encoder import SentenceEncoder, load_encoder

REFERENCE = Path(__file__).parent / "data" / "minilm-reference.npz"


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    folder = find_asset("all-minilm-l6-v2")
    if folder is None:
        pytest.skip("all-minilm-l6-v2 not installed (scripts/setup installs it)")
    return SentenceEncoder(folder)


def test_matches_sentence_transformers_batched_and_single(encoder):
    reference = np.load(REFERENCE)
    sentences, expected = list(reference["sentences"]), reference["vectors"]
    batched = encoder.encode(sentences)
    assert batched.shape == (20, 384) and batched.dtype == np.float32
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert (batched * expected).sum(axis=1).min() > 0.9999
    single = np.stack([encoder.encode([s])[0] for s in sentences])
    assert (single * expected).sum(axis=1).min() > 0.9999


def test_similar_commands_are_closer_than_unrelated_ones(encoder):
    back, previous, fox = encoder.encode(["go back", "return to the previous step", "the fox ate a sandwich"])
    assert back @ previous > back @ fox


def test_empty_input_and_missing_model(encoder, monkeypatch):
    assert encoder.encode([]).shape == (0, 384)
    monkeypatch.setattr("voicecoach.assets.find_asset", lambda asset_id: None)
    monkeypatch.setattr(encoder_module, "_NOTICED", False)
    assert load_encoder() is None
