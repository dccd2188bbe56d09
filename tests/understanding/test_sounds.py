"""Sound-alikes: a recognizer's spelling of a short command in other words that sound the same."""

from __future__ import annotations

import pytest

from voicecoach.understanding.intents import DialogueContext
from voicecoach.understanding.matcher import match_intent
from voicecoach.understanding.sounds import sound_key


@pytest.mark.parametrize("heard, meant", [
    ("go bark", "go back"), ("slow wer", "slower"), ("fast her", "faster"), ("egg sample", "example"),
    ("wear am i", "where am i"), ("pre vious", "previous"), ("nexed", "next"), ("re peat", "repeat"),
])
def test_words_that_sound_like_a_command_share_its_key(heard: str, meant: str) -> None:
    assert sound_key(heard) == sound_key(meant)


@pytest.mark.parametrize("one, other", [("slower", "faster"), ("next", "text"), ("go on now", "go on yeah"),
                                        ("a tad slower", "you're dead slow"), ("pause", "house")])
def test_different_sounds_keep_different_keys(one: str, other: str) -> None:
    assert sound_key(one) != sound_key(other)


@pytest.mark.parametrize("heard, intent", [("go bark", "previous"), ("slow wer", "slower"), ("egg sample", "example"),
                                           ("wear am i", "where_am_i"), ("pre vious", "previous")])
def test_a_sound_alike_of_a_short_command_is_that_command(guide, heard: str, intent: str) -> None:
    assert match_intent(heard, guide, DialogueContext(step=4)).name == intent


@pytest.mark.parametrize("word", ["bed", "down", "go park", "house", "follow", "tree", "left", "up"])
def test_other_short_words_are_not_taken_for_a_command_by_sound(guide, word: str) -> None:
    # Speech Commands' other words: "bed" sounds like "bet" (yes) but is too short a key to trust
    assert match_intent(word, guide, DialogueContext(step=4, awaiting_confirmation=True)).name == "none"


def test_a_long_sentence_is_never_read_by_sound(guide) -> None:
    assert match_intent("we should go bark at the neighbours dog", guide, DialogueContext(step=4)).name == "none"


@pytest.mark.parametrize("heard", ["now", "know"])
def test_a_no_heard_as_a_sound_alike_answers_a_pending_question_only(guide, heard: str) -> None:
    assert match_intent(heard, guide, DialogueContext(step=4, awaiting_confirmation=True)).name == "no"
    assert match_intent(heard, guide, DialogueContext(step=4)).name == "none"


def test_a_number_written_in_digits_is_read_as_said(guide) -> None:
    assert match_intent("1 second", guide, DialogueContext(step=4)).name == "pause"
    assert match_intent("go to step 3", guide, DialogueContext(step=4)).slots == {"step": 3}
