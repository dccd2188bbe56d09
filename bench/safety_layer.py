"""Choosing the semantic safety layer's thresholds: five-fold cross-validation over its training examples
only (the tuning halves and the training files; the benchmark's test halves never enter). For each
threshold: the share of held-out danger examples it catches, alone and together with the patterns, and
the share of held-out harmless look-alikes it fires on. Prints a table.

    .venv/bin/python bench/safety_layer.py [RIDGE]
    .venv/bin/python bench/safety_layer.py --by-batch [RIDGE] [CHOICE ...]

--by-batch: leave-one-batch-out instead (each writer's batch left out in turn, trained on the rest; how batches
are told apart: bench/safety_representations.py), for every representation in safety_representations.CHOICES
(or those whose names contain a CHOICE word, e.g. `today`), with a comparison table at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from voicecoach.understanding import semantic, semantic_safety  # noqa: E402
from voicecoach.understanding.safety import find_concern  # noqa: E402

FOLDS = 5
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def main() -> None:
    if "--by-batch" in sys.argv[1:]:
        from bench.safety_representations import CHOICES, by_batch

        rest = [a for a in sys.argv[1:] if a != "--by-batch"]
        l2 = float(rest.pop(0)) if rest and rest[0].replace(".", "", 1).isdigit() else None
        by_batch(tuple(c for c in CHOICES if not rest or any(w in c.name for w in rest)), l2)
        return
    texts = semantic_safety.example_texts()
    vectors = {kind: semantic.example_vectors(f"safety-{kind}", items) for kind, items in texts.items()}
    if any(v is None for v in vectors.values()):
        sys.exit("the sentence encoder is not installed: run scripts/setup")
    rng = np.random.default_rng(7)
    folds = {kind: rng.permutation(len(texts[kind])) % FOLDS for kind in ("danger", "harmless")}
    by_rule = {kind: np.array([find_concern(t) is not None for t in texts[kind]]) for kind in ("danger", "harmless")}
    l2 = float(sys.argv[1]) if len(sys.argv) > 1 else semantic_safety.L2
    held_out = {kind: np.zeros(len(texts[kind])) for kind in ("danger", "harmless")}
    for fold in range(FOLDS):
        train = {kind: (vectors[kind][folds[kind] != fold], [t for t, f in zip(texts[kind], folds[kind]) if f != fold])
                 for kind in ("danger", "harmless")}
        layer = semantic_safety.fit_layer({**train, "commands": (vectors["commands"], texts["commands"])}, l2)
        for kind in ("danger", "harmless"):
            chosen = folds[kind] == fold
            held_out[kind][chosen] = layer.probability(vectors[kind][chosen],
                                                       [t for t, f in zip(texts[kind], folds[kind]) if f == fold])
    print(f"{len(texts['danger'])} danger and {len(texts['harmless'])} harmless examples, "
          f"{len(texts['commands'])} commands, everyday speech and faq questions always in training; "
          f"{FOLDS}-fold, ridge {l2}")
    print(f"patterns alone: danger caught {by_rule['danger'].mean():.1%}, harmless fired {by_rule['harmless'].mean():.1%}"
          " (the patterns were written on these examples: optimistic)")
    print("\n| threshold | danger caught (layer) | with patterns | harmless fired (layer) | with patterns |")
    print("|---|---|---|---|---|")
    for threshold in THRESHOLDS:
        caught = held_out["danger"] >= threshold
        fired = held_out["harmless"] >= threshold
        print(f"| {threshold:.2f} | {caught.mean():.1%} | {(caught | by_rule['danger']).mean():.1%} "
              f"| {fired.mean():.1%} | {(fired | by_rule['harmless']).mean():.1%} |")


if __name__ == "__main__":
    main()
