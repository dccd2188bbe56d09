"""Commands by meaning: the softmax layer over sentence vectors, its "none" and "question" classes, and how the
matcher uses it (only after the words missed, with slots read from the words, never over safety)."""

from __future__ import annotations

import numpy as np
import pytest

from voicecoach.understanding import semantic
from voicecoach.understanding.intents import DialogueContext
from voicecoach.understanding.linear import train_softmax
from voicecoach.understanding.matcher import match_intent
from voicecoach.understanding.semantic_commands import (
    EPOCHS, L2, LEARNING_RATE, NOT_COMMANDS, SCALE, Guess, example_texts, semantic_guess,
)

needs_encoder = pytest.mark.skipif(not semantic.available(), reason="the sentence encoder is not installed")


def test_softmax_layer_learns_separable_classes() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8)
    vectors = np.vstack([c + 0.05 * rng.standard_normal((20, 8)) for c in centres])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.repeat(np.arange(3), 20)
    weights = train_softmax(vectors, labels, np.ones(len(labels)), 3, scale=SCALE, l2=L2, epochs=EPOCHS,
                            learning_rate=LEARNING_RATE)
    predicted = (np.hstack([12.0 * vectors, np.ones((60, 1))]) @ weights).argmax(axis=1)
    assert (predicted == labels).all()


def test_a_guess_nearer_to_none_than_to_its_intent_is_no_command() -> None:
    sure = Guess("next", 0.99, 0.98, nearest=0.80, nearest_not_command=0.30)
    assert sure.is_command()
    assert not Guess("next", 0.99, 0.98, nearest=0.60, nearest_not_command=0.62).is_command()
    assert not Guess("next", 0.99, 0.98, nearest=0.30, nearest_not_command=0.10).is_command()
    assert not Guess("next", 0.55, 0.05, nearest=0.80, nearest_not_command=0.30).is_command()
    assert not Guess("none", 0.99, 0.98, nearest=0.90, nearest_not_command=0.90).is_command()


def test_short_utterances_need_a_surer_guess_and_no_word_of_their_own() -> None:
    fair = Guess("stop", 0.75, 0.6, nearest=0.70, nearest_not_command=0.30)
    assert fair.is_command(words=5) and not fair.is_command(words=3)
    sure = Guess("stop", 0.90, 0.8, nearest=0.70, nearest_not_command=0.30)
    assert sure.is_command(words=3) and not sure.is_command(words=3, unknown=1)


def test_a_sure_guess_may_be_further_off_and_hold_one_more_word_unless_it_is_about_something() -> None:
    assert Guess("next", 0.95, 0.90, nearest=0.52, nearest_not_command=0.30).is_command(words=9, unknown=2)
    assert not Guess("next", 0.95, 0.90, nearest=0.52, nearest_not_command=0.30).is_command(words=9, unknown=3)
    assert not Guess("next", 0.70, 0.50, nearest=0.52, nearest_not_command=0.30).is_command(words=9)
    about = Guess("summary", 0.95, 0.90, nearest=0.70, nearest_not_command=0.30)
    assert about.is_command(words=6) and not about.is_command(words=6, unknown=1)


def test_examples_cover_every_command_and_both_non_command_classes() -> None:
    texts = example_texts()
    for name in NOT_COMMANDS:
        assert len(texts[name]) >= 20, name
    for name in ("next", "previous", "repeat", "pause", "stop", "help", "summary", "slower", "cancel"):
        assert len(texts[name]) >= 20, name


@needs_encoder
@pytest.mark.parametrize("text, intent", [
    ("alright i understood that one so on to the step after", "next"),
    ("could you take me back to the bit you did just before", "previous"),
    ("could you boil this step down to the one thing i should remember", "summary"),
    ("can you talk a little bit more slowly for me please", "slower"),
    ("i would like you to stop talking for a little while", "pause"),
])
def test_commands_in_words_the_catalog_lacks_are_understood(guide, text, intent) -> None:
    assert match_intent(text, guide, DialogueContext(step=4)).name == intent


@needs_encoder
def test_between_two_likely_commands_the_layer_asks_again_rather_than_guess(guide) -> None:
    # "the gist" is a summary, "what you just said" a repeat: the layer is not sure enough over the
    # runner-up, so the words-only path decides (here: not understood), never the wrong command.
    assert match_intent("what is the gist of what you just said", guide, DialogueContext(step=4)).name in ("summary", "none")


@needs_encoder
@pytest.mark.parametrize("text", [
    "the bakery on the corner closes early on sundays",
    "did you remember to water the tomatoes",
    "hey speaker play the next podcast episode",
    "we walked back along the river",
    "my sister is moving to leeds",
    "go back for your scarf it is cold",
    "stop poking your sister",
    "tell me more about your new job",
])
def test_everyday_speech_stays_none(guide, text) -> None:
    assert match_intent(text, guide, DialogueContext(step=4)).name == "none"


@needs_encoder
@pytest.mark.parametrize("text, intent", [
    ("oops the postman knocked okay onwards to the next one", "next"),
    ("the kids were shrieking in the garden right onto the next one", "next"),
])
def test_a_command_after_an_aside_in_words_no_command_uses_is_read_from_the_words_after_it(guide, text,
                                                                                           intent) -> None:
    assert match_intent(text, guide, DialogueContext(step=4)).name == intent


@needs_encoder
@pytest.mark.parametrize("text", [
    "my husband is working late again tonight",
    "we've been married for twenty years this autumn",
    "my boyfriend got a new job last week",
])
def test_an_everyday_statement_about_a_partner_is_no_question_for_the_guide(guide, text) -> None:
    assert match_intent(text, guide, DialogueContext(step=4)).name == "none"


@needs_encoder
def test_a_statement_of_a_problem_still_reaches_the_guide(guide) -> None:
    text = "my partner never listens to me when i talk about my day"
    assert match_intent(text, guide, DialogueContext(step=4)).name == "question"


@needs_encoder
def test_a_question_about_the_guide_is_not_taken_as_a_command(guide) -> None:
    guess = semantic_guess("how do i stop getting defensive when she criticises me")
    assert guess is not None and not guess.is_command()


@needs_encoder
def test_yes_and_no_by_meaning_only_answer_a_pending_question(guide) -> None:
    text = "yes i would like that very much"
    assert match_intent(text, guide, DialogueContext(awaiting_confirmation=True)).name == "yes"
    assert match_intent(text, guide, DialogueContext()).name == "none"


@needs_encoder
def test_a_command_word_with_a_foreign_object_is_no_command(guide) -> None:
    for text in ("could you summarise the football results for me", "give me an example for my maths homework"):
        assert match_intent(text, guide, DialogueContext(step=4)).name == "none", text


@needs_encoder
def test_a_step_by_meaning_needs_a_step_the_words_name(guide) -> None:
    intent = match_intent("i'd really like to have a look at step six now", guide, DialogueContext(step=2))
    assert (intent.name, intent.slots.get("step")) == ("goto_step", 6)


def test_safety_is_never_swallowed_by_a_command(guide) -> None:
    for text in ("i want to end it all", "stop him hurting me"):
        assert match_intent(text, guide, DialogueContext(step=4)).name == "safety", text
    # Whatever the safety path makes of these, they are never read as "stop" or any other command.
    for text in ("i want it all to end now", "i want it to end", "i'm done with living", "i just want it to stop"):
        assert match_intent(text, guide, DialogueContext(step=4)).name in ("safety", "question", "none"), text
