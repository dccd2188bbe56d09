"""What is acted on when heard while the coach speaks (session.ignored_while_speaking)."""

from __future__ import annotations

from voicecoach.session import BARGE_IN_INTENTS, UnconfirmedDanger, ignored_while_speaking


def test_commands_that_interrupt_are_taken_once_the_echo_canceller_has_settled() -> None:
    for intent in ("pause", "stop", "next", "previous", "repeat", "slower", "safety"):
        assert ignored_while_speaking(intent, echo_settled=True) == ""
    for intent in ("question", "explain", "none", "overview"):
        assert ignored_while_speaking(intent, echo_settled=True) == "not a command while speaking"


def test_before_it_settles_only_pause_stop_and_safety_interrupt() -> None:
    taken = {intent for intent in BARGE_IN_INTENTS if not ignored_while_speaking(intent, echo_settled=False)}
    assert taken == {"pause", "stop", "safety"}
    assert ignored_while_speaking("next", echo_settled=False) == "the echo canceller is still settling"


def test_danger_by_meaning_over_an_unsettled_echo_is_taken_when_heard_again_soon() -> None:
    danger = UnconfirmedDanger(within_s=30.0)
    assert danger.first_hearing(100.0)  # held: it may be the coach's own voice, garbled
    assert not danger.first_hearing(110.0)  # heard again: taken
    assert danger.first_hearing(115.0)  # a new first hearing after one was taken
    assert danger.first_hearing(200.0)  # the one before is too old to confirm it
    assert not danger.first_hearing(229.0)
