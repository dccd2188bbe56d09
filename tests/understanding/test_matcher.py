"""The matcher's behaviour beyond the dev set: context, numbers, topics, rejection, paraphrases."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicecoach.understanding.labelled_cases import judge, load_cases
from voicecoach.understanding.catalog import command_phrases
from voicecoach.understanding.intents import INTENT_NAMES, DialogueContext
from voicecoach.understanding.matcher import match_intent

BENCH_DATA = Path(__file__).resolve().parents[2] / "bench" / "data"
PARAPHRASES = load_cases(BENCH_DATA / "intents-paraphrases.yaml")
OUT_OF_DOMAIN = [line for line in (BENCH_DATA / "out-of-domain.txt").read_text().splitlines()
                 if line and not line.startswith("#")]


def test_paraphrases_written_for_the_benchmark_mostly_match(guide) -> None:
    failures = [c["text"] for c in PARAPHRASES if not judge(c, guide, {"step": 4})[0]]
    assert len(failures) <= len(PARAPHRASES) * 0.03, failures


def test_out_of_domain_sentences_are_rarely_taken_as_commands(guide) -> None:
    accepted = [s for s in OUT_OF_DOMAIN if match_intent(s, guide, DialogueContext(step=4)).name != "none"]
    assert len(accepted) <= len(OUT_OF_DOMAIN) / 20, accepted


@pytest.mark.parametrize("text, context, intent", [
    ("stop", {"speaking": True}, "pause"),
    ("stop", {"paused": True}, "stop"),
    ("stop", {}, "stop"),
    ("continue", {"paused": True}, "resume"),
    ("continue", {}, "next"),
    ("okay", {"awaiting_confirmation": True}, "yes"),
    ("okay", {}, "none"),
    ("sure", {}, "none"),
    ("go ahead", {"awaiting_confirmation": True}, "yes"),
    ("go ahead", {}, "next"),
    ("oh no", {}, "none"),
    ("another one", {"last_intent": "example"}, "example"),
    ("another one", {}, "none"),
])
def test_context_changes_meaning(guide, text, context, intent) -> None:
    assert match_intent(text, guide, DialogueContext.from_mapping(context)).name == intent


@pytest.mark.parametrize("text, step", [
    ("go to step 7", 7), ("go to step seven", 7), ("the seventh step", 7), ("step number two", 2),
    ("go to the 3rd step", 3), ("first step", 1), ("the final step", 10), ("go to step for", 4),
    ("take me to the step about couples counselling", 10), ("go to the step on time apart", 9),
    ("go to step twenty", 20),
    ("take me to the conflict one", 4), ("go to step one", 1), ("back to one", 1),  # "one" as a pronoun or a number
])
def test_step_numbers_in_every_spoken_form(guide, text, step) -> None:
    intent = match_intent(text, guide)
    assert (intent.name, intent.slots.get("step")) == ("goto_step", step)


def test_explain_that_takes_the_current_steps_main_concept(guide) -> None:
    for number, step in enumerate(guide.steps, 1):
        intent = match_intent("explain that", guide, DialogueContext(step=number))
        assert intent.slots == {"topic": step.main_concept.id}


def test_every_concept_alias_resolves_to_its_concept(guide) -> None:
    for _, concept in guide.concepts():
        for name in concept.names:
            intent = match_intent(f"explain {name}", guide)
            assert intent.slots.get("topic") == concept.id, (name, intent)


def test_unknown_topic_is_not_forced_onto_a_concept(guide) -> None:
    assert match_intent("explain quantum physics", guide).name == "none"
    assert match_intent("what is the capital of france", guide).name == "none"


def test_small_recognition_slips_still_match(guide) -> None:
    assert match_intent("nex step", guide).name == "next"
    assert match_intent("repeet that", guide).name == "repeat"


def test_safety_needs_more_than_one_word(guide) -> None:
    assert match_intent("abuse", guide).name != "safety"
    assert match_intent("my partner is abusive", guide).name == "safety"


def test_command_phrases_cover_slots_and_topics(guide) -> None:
    phrases = command_phrases(guide)
    assert len(phrases) == len(set(phrases))
    for phrase in ("next step", "go to step ten", "go to the seventh step", "explain active listening",
                   "continue", "stop"):
        assert phrase in phrases
    assert all(match_intent(p, guide).name in INTENT_NAMES for p in phrases[:200])


def test_catalog_phrasings_map_to_one_intent_each() -> None:
    import yaml

    from voicecoach.understanding.catalog import _clean
    from voicecoach.understanding.templates import expand

    data = yaml.safe_load((Path(__file__).resolve().parents[2] / "voicecoach" / "understanding"
                           / "phrases.yaml").read_text())
    owner: dict[str, str] = {}
    for intent, templates in [*data["intents"].items(), *data["understood"].items()]:
        assert intent in INTENT_NAMES
        for template in templates:
            for phrase in expand(template):
                phrase = _clean(phrase)
                assert owner.setdefault(phrase, intent) == intent, (phrase, owner[phrase], intent)


@pytest.mark.parametrize("text, intent, step", [
    ("take me back to the last step the kids were loud", "previous", None),
    ("hang on go back to the last step", "previous", None),
    ("skip ahead to the last step", "goto_step", 10),
    ("go to the last step", "goto_step", 10),
])
def test_back_to_the_last_step_is_the_one_before(guide, text, intent, step) -> None:
    """"last" after "back" is the step before this one; without it, the guide's final step."""
    found = match_intent(text, guide, DialogueContext(step=4))
    assert found.name == intent and found.slots.get("step") == step
