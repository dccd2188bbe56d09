"""Labelled utterance sets (the shared dev set, the benchmark's sets) and judging one case: used by the tests
and by bench/intents.py alike, so a benchmark never imports from tests/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from voicecoach.guide.model import Guide
from voicecoach.understanding.answers import answer_question
from voicecoach.understanding.intents import DialogueContext, Intent
from voicecoach.understanding.matcher import match_intent


def load_cases(path: Path) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text("utf-8"))["cases"]


def judge(case: dict[str, Any], guide: Guide, default_context: dict[str, Any] | None = None) -> tuple[bool, Intent]:
    """Whether the matcher (and, for questions, the answerer) gets this case right."""
    context = DialogueContext.from_mapping({**(default_context or {}), **(case.get("context") or {})})
    intent = match_intent(case["text"], guide, context)
    wanted = case["intent"] if isinstance(case["intent"], list) else [case["intent"]]
    ok = intent.name in wanted
    if ok and "slots" in case:
        ok = all(intent.slots.get(k) == v for k, v in case["slots"].items())
    if ok and "any_topic" in case and intent.name == "explain":
        ok = intent.slots.get("topic") in case["any_topic"]
    if ok and "answer_step" in case:
        ok = answer_question(guide, case["text"], context).step == case["answer_step"]
    return ok, intent
