"""Property tests: whatever arrives, the matcher and the answerer return a valid result, never raise."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from voicecoach.guide.loader import load_guide
from voicecoach.understanding.answers import answer_question
from voicecoach.understanding.intents import INTENT_NAMES, DialogueContext
from voicecoach.understanding.matcher import match_intent
from tests.understanding.conftest import GUIDE_PATH

GUIDE = load_guide(GUIDE_PATH)
WORDS = st.sampled_from("next step go back to the seven stop um please explain what is blame my partner "
                        "hits me why should i listen okay continue".split())
contexts = st.builds(DialogueContext, step=st.one_of(st.none(), st.integers(-5, 50)), paused=st.booleans(),
                     awaiting_confirmation=st.booleans(), speaking=st.booleans())


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), context=contexts)
def test_any_unicode_gives_a_valid_intent(text, context) -> None:
    intent = match_intent(text, GUIDE, context)
    assert intent.name in INTENT_NAMES and 0.0 <= intent.score <= 1.0


@settings(max_examples=200, deadline=None)
@given(words=st.lists(WORDS, max_size=40), context=contexts)
def test_any_word_salad_gives_a_valid_intent(words, context) -> None:
    intent = match_intent(" ".join(words), GUIDE, context)
    assert intent.name in INTENT_NAMES
    if intent.name == "goto_step":
        assert isinstance(intent.slots["step"], int)
    if intent.name == "explain" and "topic" in intent.slots:
        assert GUIDE.concept(intent.slots["topic"]) is not None


def test_very_long_and_empty_input() -> None:
    assert match_intent("", GUIDE).name == "none"
    assert match_intent("   \n\t ", GUIDE).name == "none"
    assert match_intent("next " * 100_000, GUIDE).name in INTENT_NAMES
    assert answer_question(GUIDE, "why " * 100_000).text


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_any_question_gets_a_spoken_answer(text) -> None:
    answer = answer_question(GUIDE, text)
    assert answer.text.strip()
    assert answer.step is None or 1 <= answer.step <= len(GUIDE.steps)
