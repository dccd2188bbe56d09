"""The meaning layers learn from example files; none of them may hold a text of a benchmark test half, or the
held-out figures of bench/intents.py would be flattered. The phrase catalog (phrases.yaml) is the product's own
vocabulary of commands and is exempt: short common phrasings ("yeah", "again") recur in any set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bench import sets as bench_sets  # a module: pytest would collect test_half_texts itself

FOLDER = Path(__file__).resolve().parents[2] / "voicecoach" / "understanding"
EXAMPLE_FILES = ("semantic_commands.yaml", "semantic_commands_examples.yaml", "safety_training_danger.yaml",
                 "safety_training_harmless.yaml", "safety_examples.yaml", "question_examples.yaml", "not_covered.yaml")


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", str(text).strip().lower())


def _texts(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for key, v in value.items() if key not in ("steps", "step") for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_example_files_hold_no_test_half_text(name):
    tested = {_normal(t) for t in bench_sets.test_half_texts()}
    texts = _texts(yaml.safe_load((FOLDER / name).read_text("utf-8")))
    assert texts, name
    leaked = sorted({t for t in texts if _normal(t) in tested})
    assert not leaked, f"{name} holds {len(leaked)} test-half texts, e.g. {leaked[:3]}"
