"""Every case of the shared dev set maps to its intent, slots, topic and answer step."""

from __future__ import annotations

import pytest

from voicecoach.understanding.labelled_cases import judge, load_cases
from tests.understanding.conftest import SHARED

DEV_SET = SHARED / "eval" / "commands-dev.yaml"
CASES = load_cases(DEV_SET) if DEV_SET.exists() else []


def test_dev_set_is_present() -> None:
    assert DEV_SET.exists(), f"{DEV_SET} is missing: check out the project beside ../shared"
    assert len(CASES) > 50


@pytest.mark.parametrize("case", CASES, ids=[c["text"] or "<empty>" for c in CASES])
def test_dev_case(case, guide) -> None:
    ok, intent = judge(case, guide)
    assert ok, f"{case} -> {intent.name} {dict(intent.slots)}"
