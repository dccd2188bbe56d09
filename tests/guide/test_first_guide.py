"""The first guide: valid, complete, and written in our own words (no eight-word run of the source)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voicecoach.guide.loader import load_guide

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "content" / "relationship-ten-steps.yaml"
SOURCE = REPO.parent / "shared" / "source" / "ten-steps-article.txt"
REQUIRED_CONCEPTS = ("vulnerability differences responsibility conflict blame listening communication "
                     "compromise respect support independence therapy").split()
RUN = 8


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'").replace("'", ""))


def guide_text(path: Path) -> str:
    """Every string in the guide file (ids and keys included: the check is deliberately broad)."""
    return path.read_text("utf-8")


def test_first_guide_validates_with_ten_steps_and_the_required_concepts() -> None:
    guide = load_guide(GUIDE)
    assert len(guide.steps) == 10
    ids = {concept.id for _, concept in guide.concepts()}
    assert set(REQUIRED_CONCEPTS) <= ids
    for step in guide.steps:
        assert len(step.examples) >= 2 and len(step.faq) >= 3 and step.reflection


def test_no_eight_word_run_of_the_source_article_appears() -> None:
    assert SOURCE.exists(), f"{SOURCE} is missing: check out the project beside ../shared"
    source = words(SOURCE.read_text("utf-8"))
    runs = {tuple(source[i:i + RUN]) for i in range(len(source) - RUN + 1)}
    ours = words(guide_text(GUIDE))
    copied = [" ".join(ours[i:i + RUN]) for i in range(len(ours) - RUN + 1) if tuple(ours[i:i + RUN]) in runs]
    assert not copied, copied


@pytest.mark.parametrize("stereotype", ["man up", "women particularly", "like a man", "real men"])
def test_no_gender_stereotypes(stereotype: str) -> None:
    assert stereotype not in GUIDE.read_text("utf-8").lower()


def test_safety_text_points_to_emergency_and_support_lines() -> None:
    safety = load_guide(GUIDE).safety
    text = (safety.message + " " + " ".join(safety.resources)).lower()
    assert "emergency" in text and ("hotline" in text or "helpline" in text or "lifeline" in text)
