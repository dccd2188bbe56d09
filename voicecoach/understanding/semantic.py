"""Sentence meaning for the understanding layer: one encoded vector per utterance, and the vectors of fixed
example texts, encoded once and cached on disk. Everything here returns None when the encoder's model is
not installed, so callers fall back to words alone."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

CACHE_VERSION = "minilm-v1"
_builder: threading.Thread | None = None  # the background thread building the layers (see build_in_background)
_stop_building = threading.Event()
STOP_TIMEOUT_S = 10.0  # a batch of 32 examples takes tens of milliseconds; loading the encoder about a second


def build_in_background(build) -> threading.Thread:
    """Run `build` (encode the examples, train the layers) on a background thread at the lowest CPU priority.
    Until it is done, `standing_aside()` tells every other thread to answer without the meaning layers. From a
    cold cache (a first run, examples changed by an update) it takes about a minute on this 2-core machine,
    and the live loop must not wait for it; from a warm cache, about a second."""
    global _builder
    _stop_building.clear()

    def run() -> None:
        from voicecoach.understanding.encoder import EncodingCancelled

        try:
            # The encoder is loaded and run once first, at normal priority: threads inherit their creator's
            # niceness, and the worker threads made now (onnxruntime's with the session, the tokenizer's at
            # its first batch) serve every later utterance too.
            encoder = _encoder()
            if encoder is not None:
                encoder.encode(["warm", "up"])
            lower_priority_of_this_thread(19)
            build()
        except EncodingCancelled:
            log.info("building the meaning layers stopped: the session is ending")
        except Exception:  # the layers are an aid: without them the words still answer
            log.exception("building the meaning layers failed")

    _builder = threading.Thread(target=run, name="voicecoach-meaning", daemon=True)
    _builder.start()
    return _builder


def stop_building() -> None:
    """Stop the background build at its next batch and wait for its thread (before the process exits: a thread
    left inside onnxruntime at interpreter teardown aborts the process)."""
    builder = _builder
    if builder is None or not builder.is_alive():
        return
    _stop_building.set()
    builder.join(STOP_TIMEOUT_S)


def _cancelled() -> bool:
    return _stop_building.is_set() and threading.current_thread() is _builder


def standing_aside() -> bool:
    """Whether another thread is building the meaning layers right now (callers then do without them)."""
    builder = _builder
    return builder is not None and builder.is_alive() and threading.current_thread() is not builder


def lower_priority_of_this_thread(niceness: int) -> None:
    """Make the calling thread yield the CPU to the live loop (Linux; elsewhere, or when not allowed, nothing).
    Threads it creates from now on inherit the niceness: create engines (and their thread pools) before."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError):
        pass


@lru_cache(maxsize=1)
def _encoder():
    from voicecoach.understanding.encoder import load_encoder

    return load_encoder()


def available() -> bool:
    return _encoder() is not None


@lru_cache(maxsize=256)
def encode(text: str) -> np.ndarray | None:
    """The unit vector of one utterance, or None without the encoder."""
    encoder = _encoder()
    return None if encoder is None else encoder.encode([text])[0]


def example_vectors(name: str, texts: Sequence[str]) -> np.ndarray | None:
    """The vectors of fixed example texts, from the cache when they were encoded before."""
    encoder = _encoder()
    if encoder is None:
        return None
    key = hashlib.sha256("\n".join([CACHE_VERSION, *texts]).encode()).hexdigest()[:16]
    path = _cache_folder() / f"{name}-{key}.npy"
    try:
        vectors = np.load(path)
        if vectors.shape[0] == len(texts):
            return vectors
    except (OSError, ValueError):
        pass
    log.info("encoding %d %s once (cached in %s)", len(texts), name, path)
    vectors = encoder.encode(list(texts), cancelled=_cancelled)
    _save(path, vectors)
    return vectors


def load_array(name: str) -> np.ndarray | None:
    """An array saved with save_array under this name, or None when there is none (or it is damaged)."""
    try:
        return np.load(_cache_folder() / f"{name}.npy")
    except (OSError, ValueError):
        return None


def save_array(name: str, array: np.ndarray) -> None:
    """Keep a derived array (a trained layer) beside the example vectors, atomically."""
    _save(_cache_folder() / f"{name}.npy", array)


def _cache_folder() -> Path:
    from voicecoach.assets.verify import hash_cache_path

    return hash_cache_path().parent


def _save(path: Path, vectors: np.ndarray) -> None:
    """Write the cache atomically; a cache that cannot be written only costs time at the next start."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npy.part")
        with os.fdopen(handle, "wb") as stream:
            np.save(stream, vectors)
        os.replace(temporary, path)
    except OSError as error:
        log.warning("could not cache the %s vectors in %s: %s", path.stem, path, error)
