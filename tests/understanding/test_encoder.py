"""The all-MiniLM-L6-v2 encoder matches sentence-transformers' own vectors (recorded once with torch,
outside the project: data/minilm-reference.npz) on both backends, batched or one at a time; the
onnxruntime graph is cached, rebuilt when the cached file is damaged, and numpy takes over without it."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from voicecoach.assets import find_asset
from voicecoach.understanding import encoder as encoder_module
from voicecoach.understanding.encoder import SentenceEncoder, load_encoder

REFERENCE = Path(__file__).parent / "data" / "minilm-reference.npz"


@pytest.fixture(scope="module")
def folder() -> Path:
    folder = find_asset("all-minilm-l6-v2")
    if folder is None:
        pytest.skip("all-minilm-l6-v2 not installed (scripts/setup installs it)")
    return folder


@pytest.fixture(scope="module", params=["onnx", "numpy"])
def encoder(request, folder) -> SentenceEncoder:
    if request.param == "onnx":
        pytest.importorskip("onnxruntime")
    return SentenceEncoder(folder, backend=request.param)


def _assert_matches_reference(encoder: SentenceEncoder) -> None:
    reference = np.load(REFERENCE)
    sentences, expected = list(reference["sentences"]), reference["vectors"]
    batched = encoder.encode(sentences)
    assert batched.shape == (20, 384) and batched.dtype == np.float32
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert (batched * expected).sum(axis=1).min() > 0.9999
    single = np.stack([encoder.encode([s])[0] for s in sentences])
    assert (single * expected).sum(axis=1).min() > 0.9999


def test_matches_sentence_transformers_batched_and_single(encoder):
    _assert_matches_reference(encoder)


def test_similar_commands_are_closer_than_unrelated_ones(encoder):
    back, previous, fox = encoder.encode(["go back", "return to the previous step", "the fox ate a sandwich"])
    assert back @ previous > back @ fox


def test_empty_input_and_missing_model(encoder, monkeypatch):
    assert encoder.encode([]).shape == (0, 384)
    monkeypatch.setattr("voicecoach.assets.find_asset", lambda asset_id: None)
    monkeypatch.setattr(encoder_module, "_NOTICED", False)
    assert load_encoder() is None


def test_auto_prefers_onnxruntime_when_installed(folder):
    pytest.importorskip("onnxruntime")
    assert SentenceEncoder(folder).backend == "onnx"


@pytest.mark.slow
def test_onnx_graph_is_cached_and_rebuilt_after_truncation(folder, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from voicecoach.understanding.encoder_onnx import OnnxBert

    monkeypatch.setenv("VOICECOACH_CACHE_DIR", str(tmp_path))
    weights = folder / "model.safetensors"
    first = OnnxBert(weights)
    assert first.built and first.cache_file.is_file() and first.cache_file.is_relative_to(tmp_path)
    again = OnnxBert(weights)
    assert not again.built and again.cache_file == first.cache_file

    data = first.cache_file.read_bytes()
    for cut in (len(data) // 2, len(data) - 8):  # mid-weights, and just short of the end
        first.cache_file.write_bytes(data[:cut])
        rebuilt = OnnxBert(weights)
        assert rebuilt.built and first.cache_file.stat().st_size == len(data)
    encoder = SentenceEncoder(folder, backend="onnx")
    assert encoder.backend == "onnx" and not encoder._model.built
    _assert_matches_reference(encoder)


def test_numpy_takes_over_with_one_notice_without_onnxruntime(folder, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` raises ImportError
    monkeypatch.setattr(encoder_module, "_FALLBACK_NOTICED", False)
    with caplog.at_level(logging.INFO, logger=encoder_module.__name__):
        encoders = [SentenceEncoder(folder), SentenceEncoder(folder)]
    assert [e.backend for e in encoders] == ["numpy", "numpy"]
    assert sum("numpy" in r.getMessage() for r in caplog.records) == 1
    with pytest.raises(ImportError):
        SentenceEncoder(folder, backend="onnx")
