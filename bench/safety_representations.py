"""Leave-one-batch-out for the semantic safety layer (bench/safety_layer.py --by-batch), and representations of
an utterance that keep more than the mean of MiniLM's last-layer token states, all computed from the same
encoder: max-pooled token states, the [CLS] state, means of other layers, max over neighbouring token pairs.

Batches: the examples carry no batch field, so each text's batch is where it came from.
  * safety_examples.yaml is built by bench/safety_examples.py from the tuning halves of bench/data's sets; each
    text is traced back to the first set (in that script's order) whose tuning half holds it, and the set's
    name gives the writer's batch: the suffix -extra, -third, ... -seventh, else "first"
    (safety-crisis, safety-near-misses, questions-heldout, questions-uncovered, commands-ignore). Only tuning
    halves are read; the test halves never enter.
  * safety_training_danger.yaml and safety_training_harmless.yaml: one batch, "training" (one helper's).
  * semantic_commands.yaml's distress examples: "command-layer".
The command catalog, the command layer's other examples and the faq questions are always in training, less any
text that is also in the batch left out.
"""

from __future__ import annotations

import hashlib
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from voicecoach.datafile import packaged_yaml  # noqa: E402
from voicecoach.understanding import semantic, semantic_safety  # noqa: E402
from voicecoach.understanding.safety import find_concern  # noqa: E402

import safety_examples as source_sets  # noqa: E402  (bench/safety_examples.py: which sets, in which order)
from bench.sets import cases  # noqa: E402

KINDS = ("danger", "harmless")
POOLS_VERSION = "pools-v1"
# Poolings cached per text (each a 384-vector, unit length): layer 0 = the embedding output, 6 = the last.
POOLS = ("mean0", "mean1", "mean3", "mean6", "max6", "max3", "cls6", "pairmax6")


def _batch_of_set(name: str) -> str:
    """The writer's batch a set belongs to: its ordinal suffix ("-ninth", "-twelfth"), "extra", or "first"."""
    match = re.search(r"-(extra|third|[a-z]+th)$", name)
    return match.group(1) if match else "first"


def example_batches(texts: dict[str, list[str]]) -> dict[str, list[str]]:
    """The batch of every danger and harmless example in semantic_safety.example_texts() (see the module
    docstring); commands get "always"."""
    origin: dict[str, str] = {}
    for names in (source_sets.DANGER_SETS, source_sets.HARMLESS_SETS):
        for name in names:
            for case in cases(name):
                if case["split"] == "tune":  # the test halves are never read
                    origin.setdefault(case["text"], _batch_of_set(name))
    examples = packaged_yaml("voicecoach.understanding", "safety_examples.yaml")
    training = {"danger": set(map(str, semantic_safety._flatten(
                    packaged_yaml("voicecoach.understanding", "safety_training_danger.yaml").get("danger")))),
                "harmless": set(map(str, semantic_safety._flatten(
                    packaged_yaml("voicecoach.understanding", "safety_training_harmless.yaml").get("harmless"))))}
    from_examples = {"danger": set(map(str, examples["danger"])), "harmless": set(map(str, examples["not_danger"]))}
    batches: dict[str, list[str]] = {}
    for kind in KINDS:
        batches[kind] = []
        for text in texts[kind]:
            if text in from_examples[kind]:
                batches[kind].append(origin.get(text, "unknown"))
            elif text in training[kind]:
                batches[kind].append("training")
            else:
                batches[kind].append("command-layer")
    batches["commands"] = ["always"] * len(texts["commands"])
    return batches


def pooled(texts: list[str], name: str) -> np.ndarray:
    """(n, len(POOLS), 384) unit vectors per text and pooling, cached beside the example vectors."""
    key = hashlib.sha256("\n".join([POOLS_VERSION, *POOLS, *texts]).encode()).hexdigest()[:16]
    cached = semantic.load_array(f"bench-{name}-{key}")
    if cached is not None and cached.shape == (len(texts), len(POOLS), 384):
        return cached
    encoder = semantic._encoder()
    out = np.zeros((len(texts), len(POOLS), 384), dtype=np.float32)
    started = time.perf_counter()
    for start in range(0, len(texts), 256):
        for row, states in enumerate(encoder.token_states(texts[start:start + 256]), start):
            out[row] = pool_states(states)
    print(f"encoded {len(texts)} {name} token states in {time.perf_counter() - started:.0f} s (cached)", file=sys.stderr)
    semantic.save_array(f"bench-{name}-{key}", out)
    return out


def pool_states(states: np.ndarray) -> np.ndarray:
    """(len(POOLS), 384) unit rows from one text's (7, tokens, 384) states."""
    rows = []
    for pool in POOLS:
        how, layer = pool.rstrip("0123456789"), int(pool[-1])
        x = states[layer]
        if how == "mean":
            v = x.mean(axis=0)
        elif how == "max":
            v = x.max(axis=0)
        elif how == "cls":
            v = x[0]
        elif how == "pairmax":
            v = ((x[:-1] + x[1:]) / 2).max(axis=0) if len(x) > 1 else x[0]
        rows.append(v / max(float(np.linalg.norm(v)), 1e-12))
    return np.stack(rows)


@dataclass(frozen=True)
class Choice:
    """A representation: `extra` poolings put beside today's inputs (each its own columns); `base` the pooling
    that stands for the sentence vector (its columns and the neighbour features), None = today's vector."""
    name: str
    extra: tuple[str, ...] = ()
    base: tuple[str, ...] | None = None  # averaged, then unit length


CHOICES = (
    Choice("today (mean)"),
    Choice("+ max", ("max6",)),
    Choice("+ cls", ("cls6",)),
    Choice("+ max of token pairs", ("pairmax6",)),
    Choice("+ max of layer 3", ("max3",)),
    Choice("+ mean of layer 1", ("mean1",)),
    Choice("+ mean of layer 3", ("mean3",)),
    Choice("first-last mean as the vector", (), ("mean1", "mean6")),
    Choice("+ max + cls", ("max6", "cls6")),
    Choice("+ layer 3 mean and max + max", ("mean3", "max3", "max6")),
)


def features(choice: Choice, kind_data: dict, kind: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the base vectors, the extra columns) of some rows of one kind."""
    vectors, pools, _bag, _texts = kind_data[kind]
    if choice.base is None:
        base = vectors[rows]
    else:
        base = pools[rows][:, [POOLS.index(p) for p in choice.base]].mean(axis=1)
        base = base / np.linalg.norm(base, axis=1, keepdims=True)
    extra = pools[rows][:, [POOLS.index(p) for p in choice.extra]].reshape(len(rows), 384 * len(choice.extra))
    return base.astype(np.float64), extra.astype(np.float64)


def neighbours(vectors: np.ndarray, danger: np.ndarray, references: np.ndarray, own: tuple[str, np.ndarray] | None):
    columns = []
    for kind, examples in (("danger", danger), ("harmless", references)):
        similarity = vectors @ examples.T
        if own is not None and own[0] == kind:
            similarity[np.arange(len(vectors)), own[1]] = -1.0
        k = min(semantic_safety.NEIGHBOURS, examples.shape[0])
        columns.append(np.sort(similarity, axis=1)[:, -k:].mean(axis=1))
    return np.stack(columns, axis=1)


def fit_and_score(choice: Choice, kind_data: dict, train: dict[str, np.ndarray], test: dict[str, np.ndarray],
                  l2: float) -> dict[str, np.ndarray]:
    """Train on the `train` rows of each kind (danger; harmless and commands as references), score the `test`
    rows of danger and harmless. The same inputs and training as semantic_safety.fit_layer, plus the extra
    columns."""
    base, extra, bags = {}, {}, {}
    for kind in ("danger", "harmless", "commands"):
        base[kind], extra[kind] = features(choice, kind_data, kind, train[kind])
        bags[kind] = kind_data[kind][2][train[kind]]
    danger = base["danger"]
    references = np.vstack([base["harmless"], base["commands"]])
    rows_danger = np.hstack([extra["danger"], danger, bags["danger"],
                             neighbours(danger, danger, references, ("danger", np.arange(len(danger))))])
    ref_extra = np.vstack([extra["harmless"], extra["commands"]])
    ref_bags = np.vstack([bags["harmless"], bags["commands"]])
    rows_refs = np.hstack([ref_extra, references, ref_bags,
                           neighbours(references, danger, references, ("harmless", np.arange(len(references))))])
    labels = np.r_[np.ones(len(danger)), np.zeros(len(references))]
    w = semantic_safety.WEIGHTS
    weights = np.r_[np.full(len(danger), w["danger"]), np.full(len(base["harmless"]), w["harmless"]),
                    np.full(len(base["commands"]), w["commands"])]
    beta = semantic_safety.train_logistic(np.vstack([rows_danger, rows_refs]), labels, weights, l2)
    scores = {}
    for kind in KINDS:
        b, e = features(choice, kind_data, kind, test[kind])
        x = np.hstack([e, b, kind_data[kind][2][test[kind]], neighbours(b, danger, references, None)])
        scores[kind] = 1.0 / (1.0 + np.exp(-(x @ beta[:-1] + beta[-1])))
    return scores


def recall_at(scores: dict[str, np.ndarray], false_alarms: float) -> tuple[float, float]:
    """The largest share of danger caught at a threshold firing on at most `false_alarms` of harmless; and
    that threshold."""
    harmless = np.sort(scores["harmless"])[::-1]
    allowed = int(np.floor(false_alarms * len(harmless)))
    threshold = harmless[allowed] + 1e-12 if allowed < len(harmless) else 0.0  # strictly above the next one
    return float((scores["danger"] >= threshold).mean()), float(threshold)


def load(texts: dict[str, list[str]]) -> dict:
    data = {}
    for kind, items in texts.items():
        vectors = semantic.example_vectors(f"safety-{kind}", items)
        if vectors is None:
            sys.exit("the sentence encoder is not installed: run scripts/setup")
        data[kind] = (vectors, pooled(items, f"safety-pools-{kind}"), semantic_safety.word_bag(items), items)
    return data


def by_batch(choices: tuple[Choice, ...] = CHOICES, l2: float | None = None) -> None:
    l2 = semantic_safety.L2 if l2 is None else l2
    texts = semantic_safety.example_texts()
    batches = example_batches(texts)
    data = load(texts)
    by_rule = {kind: np.array([find_concern(t) is not None for t in texts[kind]]) for kind in KINDS}
    names = sorted({b for kind in KINDS for b in batches[kind]})
    print(f"{len(texts['danger'])} danger and {len(texts['harmless'])} harmless examples, {len(texts['commands'])} "
          f"commands (always in training); leave-one-batch-out, ridge {l2}")
    print("batches (danger/harmless): " + ", ".join(
        f"{b} {batches['danger'].count(b)}/{batches['harmless'].count(b)}" for b in names))
    lookalike = np.array([b == "training" or t in _near_miss_texts() for t, b in zip(texts["harmless"], batches["harmless"])])
    summary = []
    for choice in choices:
        started = time.perf_counter()
        held = {kind: np.zeros(len(texts[kind])) for kind in KINDS}
        for left in names:
            out = {kind: np.array([b == left for b in batches[kind]]) for kind in KINDS}
            left_texts = {t for kind in KINDS for t, o in zip(texts[kind], out[kind]) if o}
            train = {kind: np.flatnonzero(~out[kind]) for kind in KINDS}
            train["commands"] = np.array([i for i, t in enumerate(texts["commands"]) if t not in left_texts])
            test = {kind: np.flatnonzero(out[kind]) for kind in KINDS}
            if not len(test["danger"]) and not len(test["harmless"]):
                continue
            scores = fit_and_score(choice, data, train, test, l2)
            for kind in KINDS:
                held[kind][test[kind]] = scores[kind]
        seconds = time.perf_counter() - started
        print(f"\n### {choice.name}  ({seconds:.0f} s)")
        print("| threshold | danger caught (layer) | with patterns | harmless fired (layer) | with patterns | look-alikes fired |")
        print("|---|---|---|---|---|---|")
        for threshold in (0.5, 0.8):
            caught, fired = held["danger"] >= threshold, held["harmless"] >= threshold
            print(f"| {threshold:.1f} | {caught.mean():.1%} | {(caught | by_rule['danger']).mean():.1%} | {fired.mean():.1%} "
                  f"| {(fired | by_rule['harmless']).mean():.1%} | {fired[lookalike].mean():.1%} |")
        per_batch = []
        for b in names:
            d = np.array([x == b for x in batches["danger"]])
            if d.any():
                per_batch.append(f"{b} {(held['danger'][d] >= 0.5).mean():.0%}")
        print("danger caught at 0.5 by batch: " + ", ".join(per_batch))
        summary.append((choice, held))
    print("\n## Comparison (leave-one-batch-out, pooled over batches; recall at a false-alarm rate = the best "
          "threshold for it, chosen on these held-out scores, the same way for every choice)")
    print("| representation | recall @ ≤2% harmless | @ ≤5% | AUC-ish: recall @ ≤1% | caught @0.5 | fired @0.5 | caught @0.8 | fired @0.8 | ratio recall@2% vs today | @5% |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    reference = None
    for choice, held in summary:
        r2, r5, r1 = (recall_at(held, f)[0] for f in (0.02, 0.05, 0.01))
        if reference is None:
            reference = (r2, r5)
        print(f"| {choice.name} | {r2:.1%} | {r5:.1%} | {r1:.1%} | {(held['danger'] >= 0.5).mean():.1%} "
              f"| {(held['harmless'] >= 0.5).mean():.1%} | {(held['danger'] >= 0.8).mean():.1%} "
              f"| {(held['harmless'] >= 0.8).mean():.1%} | {r2 / reference[0]:.3f} | {r5 / reference[1]:.3f} |")


_NEAR = None


def _near_miss_texts() -> set[str]:
    """The tuning halves of the near-miss sets (look-alikes, as opposed to questions and things to ignore)."""
    global _NEAR
    if _NEAR is None:
        _NEAR = {c["text"] for name in source_sets.HARMLESS_SETS if name.startswith("safety-near-misses")
                 for c in cases(name) if c["split"] == "tune"}
    return _NEAR


if __name__ == "__main__":
    wanted = sys.argv[1:]
    by_batch(tuple(c for c in CHOICES if not wanted or any(w in c.name for w in wanted)))
