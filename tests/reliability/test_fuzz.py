"""Fuzzing with hypothesis: the guide loader and the coach under arbitrary input.

Loader: any bytes give a Guide or a GuideError, never another exception. Coach: any sequence of intents
keeps the step in range, every reply says something, and the saved progress always loads.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecoach.coach.machine import Coach
from voicecoach.coach.progress import ProgressStore
from voicecoach.errors import GuideError
from voicecoach.guide.loader import load_guide, parse_guide
from voicecoach.understanding.intents import INTENT_NAMES, Intent

REPO = Path(__file__).resolve().parents[2]
GUIDE_TEXT = (REPO / "tests" / "guide" / "data" / "minimal.yaml").read_text()
GUIDE = load_guide(REPO / "tests" / "guide" / "data" / "minimal.yaml")


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000))
def test_any_bytes_give_a_guide_or_a_guide_error(data: bytes) -> None:
    try:
        parse_guide(data, "fuzz.yaml")
    except GuideError as error:
        assert error.problems and all(p.startswith("fuzz.yaml") for p in error.problems)


def _mutations() -> st.SearchStrategy[str]:
    """The valid small guide with one line dropped, duplicated, re-indented or changed."""
    lines = GUIDE_TEXT.splitlines()

    def mutate(index: int, kind: int, junk: str) -> str:
        changed = list(lines)
        if kind == 0:
            del changed[index]
        elif kind == 1:
            changed.insert(index, changed[index])
        elif kind == 2:
            changed[index] = "  " + changed[index]
        else:
            changed[index] = changed[index][: len(changed[index]) // 2] + junk
        return "\n".join(changed) + "\n"

    return st.builds(mutate, st.integers(0, len(lines) - 1), st.integers(0, 3), st.text(max_size=20))


@settings(max_examples=300, deadline=None)
@given(text=_mutations())
def test_a_damaged_guide_loads_whole_or_is_refused_with_located_problems(text: str) -> None:
    try:
        guide = parse_guide(text.encode("utf-8"), "damaged.yaml")
    except GuideError as error:
        assert all(p.startswith("damaged.yaml") for p in error.problems)
        return
    assert [s.number for s in guide.steps] == list(range(1, len(guide.steps) + 1))
    assert yaml.safe_load(text)["id"] == guide.id


slots = st.fixed_dictionaries({}, optional={"step": st.integers(-3, 12),
                                            "topic": st.sampled_from(["fresh_water", "steeping", "milk", "nope"]),
                                            "text": st.text(max_size=40)})
intents = st.builds(lambda name, s: Intent(name, s, 1.0, "fuzz"), st.sampled_from(INTENT_NAMES), slots)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=st.lists(intents, max_size=40), interruptions=st.lists(st.integers(0, 6), max_size=40))
def test_any_intent_sequence_keeps_the_coach_consistent(sequence, interruptions) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = ProgressStore(Path(folder))
        coach = Coach(GUIDE, progress=store, fresh=True)
        assert coach.start().text.strip()
        for index, intent in enumerate(sequence):
            if index < len(interruptions) and interruptions[index] and coach.state.last_reply is not None:
                coach.interrupted(min(interruptions[index], len(coach.state.last_reply.sentences)))
            reply = coach.handle(intent)
            assert reply.text.strip() and reply.sentences
            place = coach.state.place
            assert place is None or 1 <= place.step <= len(GUIDE.steps)
            assert 100 <= reply.rate <= 260
        coach.save()
        loaded = store.load(GUIDE.id)
        assert loaded.problem is None
        again = Coach(GUIDE, progress=store)
        assert again.start().text.strip()
