"""How the command layer generalises, estimated on tuning halves only: each writer's batch (heldout, third, ...,
twelfth: bench/sets.py) in turn is left out of the layer's examples (its commands, things to ignore and questions, from the
hand-written and the generated examples alike), the layer is trained again without it, and that batch's tuning
half is scored. Beside it, the crisis statements' and near-misses' tuning halves with the full layer. The test
halves are never read. With --sweep, each threshold setting of SWEEP is scored on every left-out batch (the
layer is trained once per batch), so the thresholds can be chosen on these figures.

    .venv/bin/python bench/commands_lobo.py [--misses fifth,sixth] [--sweep]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from bench.sets import COMMAND_SETS, CRISIS_SETS, NEAR_MISS_SETS  # noqa: E402
from voicecoach.guide.loader import load_guide  # noqa: E402
from voicecoach.guide.model import Guide  # noqa: E402
from voicecoach.understanding import matcher, semantic, semantic_commands  # noqa: E402
from voicecoach.understanding.answers import answer_question  # noqa: E402
from voicecoach.understanding.intents import DialogueContext  # noqa: E402
from voicecoach.understanding.labelled_cases import judge  # noqa: E402
from voicecoach.understanding.matcher import match_intent  # noqa: E402
from voicecoach.understanding.text import normalize  # noqa: E402

DATA = REPO / "bench" / "data"
BATCHES = tuple(name.removeprefix("commands-") for name in COMMAND_SETS)  # heldout, third, ... (bench/sets.py)
CONTEXT = DialogueContext(step=4)
# Threshold settings tried with --sweep: each is the module's values with these changed. These are the last of
# three rounds, around the values chosen (semantic_commands.py's comments give what the earlier rounds found).
SWEEP: tuple[dict[str, float], ...] = (
    {},
    {"EVERYDAY_OVER_QUESTION": 0.05},
    {"EVERYDAY_OVER_QUESTION": 0.1},
    {"EVERYDAY_WORD_SHARE": 0.8},
    {"EVERYDAY_WORD_SHARE": 1.0},
    {"MAX_FOREIGN_OBJECTS": 9},
    {"MIN_GAP_OVER_NONE": 0.05},
    {"MIN_GAP_OVER_NONE": 0.1},
    {"MIN_PROBABILITY": 0.5, "MIN_MARGIN": 0.2},
    {"SHORT_MIN_PROBABILITY": 0.7},
    {"MIN_NEAREST": 0.5},
    {"STATEMENT_EVERYDAY_GAP": 0.025},
    {"SURE_GAP_OVER_NONE": 0.05},
    {"SURE_GAP_OVER_NONE": 0.025},
    {"SURE_GAP_OVER_NONE": 0.0},
)
# The matcher's steps before the command layer's thresholds come into play, kept for each left-out batch while the
# settings are tried (they do not depend on the thresholds); the question gate is kept by its two thresholds.
MEMOISED = ("safety_by_words", "_variants", "_match_exact", "_match_fuzzy", "_match_sound_alike",
            "_match_within_fillers", "safety_by_meaning", "_match_wrapped")
_memo: dict[tuple, Any] = {}
_left_out: set[str] = set()
_packaged_yaml = semantic_commands.packaged_yaml
_example_vectors = semantic.example_vectors
_vectors_by_text: dict[str, np.ndarray] = {}


def set_names(batch: str) -> dict[str, str]:
    """The sets one writer's batch holds, by kind."""
    if batch == "heldout":
        return {"commands": "commands-heldout", "ignore": "commands-ignore", "questions": "questions-heldout",
                "uncovered": "questions-uncovered"}
    return {"commands": f"commands-{batch}", "ignore": f"commands-ignore-{batch}", "questions": f"questions-{batch}",
            "uncovered": f"questions-uncovered-{batch}"}


@lru_cache(maxsize=None)
def tuning_half(name: str) -> list[dict[str, Any]]:
    path = DATA / f"{name}.yaml"
    if not path.exists():
        return []
    return [c for c in yaml.safe_load(path.read_text("utf-8"))["cases"] if c["split"] == "tune"]


def _examples_without_left_out(package: str, name: str) -> Any:
    """The command layer's example files without the texts left out (other packaged files as they are)."""
    data = _packaged_yaml(package, name)
    if name not in semantic_commands.EXAMPLE_FILES or not _left_out or not data:
        return data

    def keep(texts: list[str]) -> list[str]:
        return [t for t in texts if normalize(str(t)) not in _left_out]

    return {**data, "intents": {k: keep(v) for k, v in data["intents"].items()},
            **{k: keep(data[k]) for k in ("none", "question", "distress") if k in data}}


def _cached_example_vectors(name: str, texts: list[str]) -> np.ndarray | None:
    """The command examples' vectors picked from those of every example, encoded once."""
    if name != "command-examples" or not _vectors_by_text:
        return _example_vectors(name, texts)
    return np.stack([_vectors_by_text[t] for t in texts])


def leave_out(batch: str | None) -> None:
    """Train the command layer again without one batch's tuning texts (None: with every example)."""
    _left_out.clear()
    if batch is not None:
        names = set_names(batch)
        for kind in ("commands", "ignore", "questions"):
            _left_out.update(normalize(c["text"]) for c in tuning_half(names[kind]))
    semantic_commands.trained_layer.cache_clear()
    semantic_commands._command_vocabulary.cache_clear()
    semantic_commands._readings.clear()
    _memo.clear()


@lru_cache(maxsize=None)
def _answer_step(text: str) -> int | None:
    answer = answer_question(_guide(), text, CONTEXT)
    return answer.step if answer.found else None


@lru_cache(maxsize=1)
def _guide() -> Guide:
    return load_guide(REPO / "content" / "relationship-ten-steps.yaml")


def answered_step(text: str, guide: Guide) -> int | None:
    if match_intent(text, guide, CONTEXT).name != "question":
        return None
    return _answer_step(text)


def by_meaning(text: str, guide: Guide) -> bool:
    """Whether the command layer took it: without the layer's readings, the matcher takes no command."""
    reading = semantic_commands._reading
    semantic_commands._reading = lambda _text: None
    try:
        return match_intent(text, guide, CONTEXT).name == "none"
    finally:
        semantic_commands._reading = reading


def score_batch(batch: str, guide: Guide, misses: bool) -> Counter[str]:
    """Commands right, things to ignore accepted, questions answered from their step, uncovered declined."""
    names = set_names(batch)
    counts: Counter[str] = Counter()
    for case in tuning_half(names["commands"]):
        if case["intent"] == "resume" and "context" not in case:  # the batches say resume is said while paused
            case = {**case, "context": {"paused": True}}
        right, intent = judge(case, guide, {"step": 4})
        counts["commands"] += 1
        counts["commands right"] += right
        if misses and not right:
            print(f"  miss   {str(case['intent']):>11} -> {intent.name:<10} {case['text']}")
    for case in tuning_half(names["ignore"]):
        intent = match_intent(case["text"], guide, CONTEXT)
        counts["to ignore"] += 1
        counts["ignore accepted"] += intent.name != "none"
        if misses and intent.name != "none":
            layer = "by meaning" if by_meaning(case["text"], guide) else "by words"
            print(f"  accept {intent.name:<10} {layer:<10} {case['text']}")
    for case in tuning_half(names["questions"]):
        wanted = case["answer_step"] if isinstance(case["answer_step"], list) else [case["answer_step"]]
        counts["questions"] += 1
        counts["questions right"] += answered_step(case["text"], guide) in wanted
    for case in tuning_half(names["uncovered"]):
        counts["uncovered"] += 1
        counts["uncovered declined"] += answered_step(case["text"], guide) is None
    return counts


def row(label: str, counts: Counter[str]) -> str:
    cells = [f"{counts[k + ' right']}/{counts[k]}" if counts[k] else "" for k in ("commands", "questions")]
    ignore = f"{counts['ignore accepted']}/{counts['to ignore']}"
    uncovered = f"{counts['uncovered declined']}/{counts['uncovered']}" if counts["uncovered"] else ""
    return f"| {label} | {cells[0]} | {ignore} | {cells[1]} | {uncovered} |"


def apply(setting: dict[str, float], defaults: dict[str, float]) -> None:
    for name, value in {**defaults, **setting}.items():
        setattr(semantic_commands, name, value)
    semantic_commands._command_vocabulary.cache_clear()


def _key(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool, type(None), DialogueContext)):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_key(v) for v in value)
    return id(value)


def memoise_matcher() -> None:
    """Keep the results of the matcher's threshold-free steps (cleared with each left-out batch)."""
    for name in MEMOISED:
        original = getattr(matcher, name)

        def kept(*args: Any, _name: str = name, _original: Any = original) -> Any:
            key = (_name, *map(_key, args))
            if key not in _memo:
                found = _original(*args)
                _memo[key] = list(found) if _name == "_variants" else found
            return _memo[key]

        setattr(matcher, name, kept)
    original_question = matcher.match_question

    def question(words: list[str], guide: Guide, text: str) -> Any:
        key = ("match_question", text, semantic_commands.EVERYDAY_OVER_QUESTION,
               semantic_commands.STATEMENT_EVERYDAY_GAP)
        if key not in _memo:
            _memo[key] = original_question(words, guide, text)
        return _memo[key]

    matcher.match_question = question


def prepare() -> None:
    """Read the example files through the leave-out filter, and encode every example once."""
    semantic_commands.packaged_yaml = _examples_without_left_out
    semantic_commands.RECENT = 1_000_000
    semantic.encode = lru_cache(maxsize=None)(semantic.encode.__wrapped__)
    leave_out(None)
    texts = semantic_commands.example_texts()
    flat = [t for items in texts.values() for t in items]
    vectors = _example_vectors("command-examples", flat)
    if vectors is None:
        sys.exit("the sentence encoder is not installed: nothing to measure")
    _vectors_by_text.update(zip(flat, vectors))
    semantic.example_vectors = _cached_example_vectors
    memoise_matcher()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", default="", help="batches whose misses are listed (tuning halves)")
    parser.add_argument("--sweep", action="store_true", help="score every threshold setting of SWEEP")
    parser.add_argument("--batches", default=",".join(BATCHES), help="the batches left out in turn")
    args = parser.parse_args()
    prepare()
    guide = _guide()
    batches = args.batches.split(",")
    settings = SWEEP if args.sweep else ({},)
    defaults = {name: getattr(semantic_commands, name) for setting in SWEEP for name in setting}
    table: dict[int, dict[str, Counter[str]]] = {i: {} for i in range(len(settings))}
    for batch in batches:
        leave_out(batch)
        for i, setting in enumerate(settings):
            apply(setting, defaults)
            table[i][batch] = score_batch(batch, guide, not i and batch in args.misses.split(","))
        apply({}, defaults)
    print("| left out | commands right | ignore accepted | questions right | uncovered declined |")
    print("|---|---|---|---|---|")
    total: Counter[str] = Counter()
    for batch in batches:
        total.update(table[0][batch])
        print(row(batch, table[0][batch]))
    print(row("sum", total))
    if args.sweep:
        print("\n| setting (sum over left-out batches) | commands right | ignore accepted | questions right "
              "| uncovered declined |\n|---|---|---|---|---|")
        for i, setting in enumerate(settings):
            summed: Counter[str] = Counter()
            for counts in table[i].values():
                summed.update(counts)
            label = ", ".join(f"{k} {v}" for k, v in setting.items()) or "as chosen"
            print(row(label, summed))
    leave_out(None)
    print("\n| tuning halves (full layer) | count | of |\n|---|---|---|")
    for label, names in (("crisis statements: reach the safety path", CRISIS_SETS),
                         ("near-misses: reach the safety path (lower is better)", NEAR_MISS_SETS)):
        found = [c for name in names for c in tuning_half(name)]
        reached = sum(match_intent(c["text"], guide, CONTEXT).name == "safety" for c in found)
        print(f"| {label} | {reached} | {len(found)} |")


if __name__ == "__main__":
    main()
