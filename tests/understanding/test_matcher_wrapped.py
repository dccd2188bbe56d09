"""Commands said inside longer sentences (an aside before, a reason after), steps named by their topic in other
word forms, and the wider phrasings: what a listener notices is the coach doing what was asked, and not acting on
sentences meant for someone else."""

from __future__ import annotations

import pytest

from voicecoach.understanding.intents import DialogueContext
from voicecoach.understanding.matcher import match_intent
from voicecoach.understanding.numbers import read_ordinal
from voicecoach.understanding import semantic

needs_encoder = pytest.mark.skipif(not semantic.available(), reason="the sentence encoder is not installed")


@pytest.mark.parametrize("text, intent", [
    ("the neighbours were drilling could you say that again", "repeat"),
    ("sorry the postman knocked but okay next", "next"),
    ("i was miles away sorry what was that", "repeat"),
    ("sorry i was not listening but go back a step", "previous"),
])
def test_a_command_after_an_aside_is_understood(guide, text, intent) -> None:
    assert match_intent(text, guide, DialogueContext(step=4)).name == intent


@needs_encoder
def test_a_command_before_a_reason_is_understood(guide) -> None:
    text = "hold on a second i need to find a pen"
    assert match_intent(text, guide, DialogueContext(step=4, speaking=True)).name == "pause"


@pytest.mark.parametrize("text", [
    "i'll be right back",
    "she said can you say that again",
    "hey alexa can you repeat that",
    "the bus is so slow",
])
def test_command_words_inside_other_sentences_stay_none(guide, text) -> None:
    assert match_intent(text, guide, DialogueContext(step=4)).name == "none"


@pytest.mark.parametrize("text, step", [
    ("go to the part about respecting each other's wishes", 7),
    ("take me to where it talks about rebuilding trust", 3),
    ("the one on couples therapy", 10),
    ("skip to the bit about having your own interests", 9),
    ("go to where it says make room", 2),
    ("the step before last", 9),
    ("jump back to the second one", 2),
    ("start again from step three", 3),
])
def test_steps_named_by_topic_number_or_position_in_other_words(guide, text, step) -> None:
    intent = match_intent(text, guide, DialogueContext(step=6))
    assert (intent.name, intent.slots.get("step")) == ("goto_step", step)


def test_before_last_and_last_but_one_count_from_the_end() -> None:
    assert read_ordinal(["before", "last"], 0) == (-2, 2)
    assert read_ordinal(["last", "but", "one"], 0) == (-2, 3)
    assert read_ordinal(["last"], 0) == (-1, 1)


@pytest.mark.parametrize("text, intent", [
    ("the one after this", "next"),
    ("i want the one before this", "previous"),
    ("same again please", "repeat"),
    ("i'd love to hear that once again", "repeat"),
    ("put it on pause", "pause"),
    ("be quiet a second", "pause"),
    ("how can i jump to another step", "help"),
    ("where are we at", "where_am_i"),
    ("give me a rundown of all the steps", "overview"),
    ("just the highlights", "summary"),
    ("is there anything more to it", "more"),
    ("too quick", "slower"),
    ("chop chop", "faster"),
    ("nah scratch that", "cancel"),
    ("kindly go back", "previous"),
])
def test_wider_phrasings_of_each_command(guide, text, intent) -> None:
    assert match_intent(text, guide, DialogueContext(step=4)).name == intent


@pytest.mark.parametrize("text, context, intent", [
    ("now where were we", {"paused": True}, "resume"),
    ("now where were we", {}, "where_am_i"),
    ("okay you can carry on now", {"paused": True}, "resume"),
    ("nah i'm alright ta", {"awaiting_confirmation": True}, "no"),
    ("yeah go for it mate", {"awaiting_confirmation": True}, "yes"),
    ("nah i'm alright ta", {}, "none"),
])
def test_replies_read_by_the_dialogue_state(guide, text, context, intent) -> None:
    assert match_intent(text, guide, DialogueContext.from_mapping({"step": 4, **context})).name == intent


def test_a_wrapped_goodbye_does_not_end_the_session(guide) -> None:
    assert match_intent("sorry the line is bad but okay bye", guide, DialogueContext(step=4)).name != "stop"
