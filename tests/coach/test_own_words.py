"""The coach's own words coming back through a loudspeaker are not taken as the listener's command
(voicecoach.own_words): heard while the coach was saying them, at about that moment."""

from __future__ import annotations

from voicecoach.own_words import RecentlySaid

INTRO = ("Welcome. This guide has ten steps. Say next or go back to move around. You can also say repeat, "
         "tell me more, give me an example, or ask a question.")


def test_a_command_the_coach_was_saying_at_that_moment_is_its_own_voice() -> None:
    said = RecentlySaid()
    said.add(INTRO, started_at=100.0)
    assert said.echoes("go back", 102.8, 103.6)  # "go back" is the 10th and 11th words: about 3 s in
    assert said.echoes("Next.", 102.5, 103.0)


def test_the_same_words_long_after_or_not_in_what_it_said_are_the_listeners() -> None:
    said = RecentlySaid()
    said.add(INTRO, started_at=100.0)
    assert not said.echoes("go back", 130.0, 130.6)  # the reply was long over
    assert not said.echoes("pause", 102.8, 103.4)  # never said
    assert not said.echoes("go to step six", 102.0, 103.0)
    assert not said.echoes("", 102.0, 103.0)


def test_only_the_latest_replies_are_remembered() -> None:
    said = RecentlySaid()
    said.add("Say next to go on.", started_at=0.0)
    for at in (1.0, 2.0, 3.0):
        said.add("Step two. Listen before you answer.", started_at=at)
    assert not said.echoes("next", 0.5, 1.0)


def test_a_longer_command_sharing_a_meaningful_word_with_what_was_said_then_is_its_own_voice() -> None:
    said = RecentlySaid()
    said.add("Talking to a therapist is a sign of care, not failure. Let's begin.", started_at=100.0)
    assert said.echoes("begin again", 103.0, 104.0)  # the recognizer's reading of "Let's begin"
    assert not said.echoes("go on", 103.0, 104.0)  # only words that carry no command by themselves in common
    assert not said.echoes("next", 103.0, 104.0)
