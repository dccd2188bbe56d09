"""The sets written apart from the matcher (bench/data), batch by batch, and how they are read: each file says
who wrote it and how it is split into a tuning half and a test half. bench/intents.py reports them; the
example builders (safety_examples.py, question_examples.py) take their tuning halves, never a text that is in
any test half. A new batch is added here once."""

from __future__ import annotations

from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent / "data"

COMMAND_SETS = ("commands-heldout", "commands-third", "commands-fourth", "commands-fifth", "commands-sixth",
                "commands-seventh", "commands-eighth", "commands-ninth",
               "commands-tenth", "commands-eleventh", "commands-twelfth", "commands-thirteenth",
                "commands-fourteenth")
IGNORE_SETS = ("commands-ignore", "commands-ignore-third", "commands-ignore-fourth", "commands-ignore-fifth",
               "commands-ignore-sixth", "commands-ignore-seventh", "commands-ignore-eighth", "commands-ignore-ninth",
               "commands-ignore-tenth", "commands-ignore-eleventh", "commands-ignore-twelfth",
               "commands-ignore-thirteenth", "commands-ignore-fourteenth")
QUESTION_SETS = ("questions-heldout", "questions-third", "questions-fifth", "questions-sixth", "questions-seventh",
                 "questions-eighth", "questions-ninth", "questions-eleventh", "questions-twelfth",
                 "questions-thirteenth", "questions-fourteenth")
UNCOVERED_SETS = ("questions-uncovered", "questions-uncovered-third", "questions-uncovered-fifth",
                  "questions-uncovered-sixth", "questions-uncovered-seventh", "questions-uncovered-eighth",
                  "questions-uncovered-ninth", "questions-uncovered-eleventh",
                  "questions-uncovered-twelfth", "questions-uncovered-thirteenth",
                  "questions-uncovered-fourteenth")
CRISIS_SETS = ("safety-crisis", "safety-crisis-extra", "safety-crisis-third", "safety-crisis-fourth",
               "safety-crisis-sixth", "safety-crisis-seventh", "safety-crisis-eighth", "safety-crisis-ninth",
               "safety-crisis-tenth", "safety-crisis-eleventh", "safety-crisis-twelfth",
               "safety-crisis-thirteenth", "safety-crisis-fourteenth")
NEAR_MISS_SETS = ("safety-near-misses", "safety-near-misses-extra", "safety-near-misses-third",
                  "safety-near-misses-fourth", "safety-near-misses-sixth", "safety-near-misses-seventh",
                  "safety-near-misses-eighth", "safety-near-misses-ninth", "safety-near-misses-tenth",
                  "safety-near-misses-eleventh", "safety-near-misses-twelfth",
                  "safety-near-misses-thirteenth", "safety-near-misses-fourteenth")

# Mirror pairs (each crisis statement has a near-miss twin with the same `pair` id): judged like the sets above,
# the patterns may be tuned on their tuning halves, but the meaning layers never learn from them (training the
# safety layer on them made it worse when each writer's batch was left out in turn).
CRISIS_PAIR_SETS = ("safety-crisis-pairs",)
NEAR_MISS_PAIR_SETS = ("safety-near-misses-pairs",)

def cases(name: str) -> list[dict]:
    """The cases of the set `name` (its file in bench/data without ".yaml")."""
    return yaml.safe_load((DATA / f"{name}.yaml").read_text("utf-8"))["cases"]


def test_half_texts() -> set[str]:
    """Every text in a test half of any set in bench/data: never an example to learn from."""
    return {c["text"] for path in DATA.glob("*.yaml") for c in (yaml.safe_load(path.read_text("utf-8")) or {}).get(
        "cases", []) if c.get("split") == "test"}
