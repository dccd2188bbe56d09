"""How the command layer generalises, estimated on tuning halves only: each blind batch (fourth, fifth, sixth) in
turn is left out of the layer's examples (its commands, things to ignore and questions), the layer is trained
again without it, and that batch's tuning half is scored. Beside it, the other sets' tuning halves with the full
layer (questions, uncovered questions, things to ignore, crisis statements). The test halves are never read.

    .venv/bin/python bench/commands_lobo.py [--misses fifth,sixth]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from voicecoach.guide.loader import load_guide  # noqa: E402
from voicecoach.guide.model import Guide  # noqa: E402
from voicecoach.understanding import semantic_commands  # noqa: E402
from voicecoach.understanding.answers import answer_question  # noqa: E402
from voicecoach.understanding.intents import DialogueContext  # noqa: E402
from voicecoach.understanding.labelled_cases import judge  # noqa: E402
from voicecoach.understanding.matcher import match_intent  # noqa: E402
from voicecoach.understanding.text import normalize  # noqa: E402

DATA = REPO / "bench" / "data"
BATCHES = ("fourth", "fifth", "sixth")
CONTEXT = DialogueContext(step=4)
_left_out: set[str] = set()
_packaged_yaml = semantic_commands.packaged_yaml


def tuning_half(name: str) -> list[dict[str, Any]]:
    path = DATA / f"{name}.yaml"
    if not path.exists():
        return []
    return [c for c in yaml.safe_load(path.read_text("utf-8"))["cases"] if c["split"] == "tune"]


def _examples_without_left_out(package: str, name: str) -> Any:
    """semantic_commands.yaml without the texts left out (other packaged files as they are)."""
    data = _packaged_yaml(package, name)
    if name != "semantic_commands.yaml" or not _left_out:
        return data

    def keep(texts: list[str]) -> list[str]:
        return [t for t in texts if normalize(t) not in _left_out]

    return {**data, "intents": {k: keep(v) for k, v in data["intents"].items()},
            **{k: keep(data[k]) for k in ("none", "question", "distress")}}


def leave_out(batch: str | None) -> None:
    """Train the command layer again without one batch's tuning texts (None: with every example)."""
    _left_out.clear()
    if batch is not None:
        for name in (f"commands-{batch}", f"commands-ignore-{batch}", f"questions-{batch}"):
            _left_out.update(normalize(c["text"]) for c in tuning_half(name))
    semantic_commands.trained_layer.cache_clear()
    semantic_commands._command_vocabulary.cache_clear()
    semantic_commands._readings.clear()


def answered_step(text: str, guide: Guide) -> int | None:
    if match_intent(text, guide, CONTEXT).name != "question":
        return None
    answer = answer_question(guide, text, CONTEXT)
    return answer.step if answer.found else None


def score_batch(batch: str, guide: Guide, misses: bool) -> Counter[str]:
    """Commands right, things to ignore accepted, questions answered from their step, uncovered declined."""
    counts: Counter[str] = Counter()
    for case in tuning_half(f"commands-{batch}"):
        if case["intent"] == "resume" and "context" not in case:  # the batches say resume is said while paused
            case = {**case, "context": {"paused": True}}
        right, intent = judge(case, guide, {"step": 4})
        counts["commands"] += 1
        counts["commands right"] += right
        if misses and not right:
            print(f"  miss   {case['intent']:>11} -> {intent.name:<10} {case['text']}")
    for case in tuning_half(f"commands-ignore-{batch}"):
        intent = match_intent(case["text"], guide, CONTEXT)
        counts["to ignore"] += 1
        counts["ignore accepted"] += intent.name != "none"
        if misses and intent.name != "none":
            print(f"  accept {intent.name:<10} {case['text']}")
    for case in tuning_half(f"questions-{batch}"):
        wanted = case["answer_step"] if isinstance(case["answer_step"], list) else [case["answer_step"]]
        counts["questions"] += 1
        counts["questions right"] += answered_step(case["text"], guide) in wanted
    for case in tuning_half(f"questions-uncovered-{batch}"):
        counts["uncovered"] += 1
        counts["uncovered declined"] += answered_step(case["text"], guide) is None
    return counts


def row(label: str, counts: Counter[str]) -> str:
    cells = [f"{counts[k + ' right']}/{counts[k]}" if counts[k] else "" for k in ("commands", "questions")]
    ignore = f"{counts['ignore accepted']}/{counts['to ignore']}"
    uncovered = f"{counts['uncovered declined']}/{counts['uncovered']}" if counts["uncovered"] else ""
    return f"| {label} | {cells[0]} | {ignore} | {cells[1]} | {uncovered} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--misses", default="", help="batches whose misses are listed (tuning halves)")
    args = parser.parse_args()
    semantic_commands.packaged_yaml = _examples_without_left_out
    guide = load_guide(REPO / "content" / "relationship-ten-steps.yaml")
    print("| left out | commands right | ignore accepted | questions right | uncovered declined |")
    print("|---|---|---|---|---|")
    total: Counter[str] = Counter()
    for batch in BATCHES:
        leave_out(batch)
        counts = score_batch(batch, guide, batch in args.misses.split(","))
        total.update(counts)
        print(row(batch, counts))
    print(row("sum", total))
    leave_out(None)
    print("\n| other tuning halves (full layer) | count | of |\n|---|---|---|")
    for name in ("questions-heldout", "questions-third"):
        cases = tuning_half(name)
        right = sum(answered_step(c["text"], guide) in (c["answer_step"] if isinstance(c["answer_step"], list)
                                                        else [c["answer_step"]]) for c in cases)
        print(f"| {name}: answered from the right step | {right} | {len(cases)} |")
    for name in ("questions-uncovered", "questions-uncovered-third"):
        cases = tuning_half(name)
        print(f"| {name}: declined | {sum(answered_step(c['text'], guide) is None for c in cases)} | {len(cases)} |")
    for name in ("commands-ignore", "commands-ignore-third"):
        cases = tuning_half(name)
        accepted = sum(match_intent(c["text"], guide, CONTEXT).name != "none" for c in cases)
        print(f"| {name}: accepted as a command | {accepted} | {len(cases)} |")
    crisis = [c for name in ("safety-crisis", "safety-crisis-extra", "safety-crisis-third", "safety-crisis-fourth",
                             "safety-crisis-sixth") for c in tuning_half(name)]
    reached = sum(match_intent(c["text"], guide, CONTEXT).name == "safety" for c in crisis)
    print(f"| crisis statements: reach the safety path | {reached} | {len(crisis)} |")


if __name__ == "__main__":
    main()
