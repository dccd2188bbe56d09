"""The command layer's examples taken from the benchmark's tuning halves (bench/command_examples.py), and the
command vocabulary built from all of our examples: words our everyday examples use much more than commands do
("car", "kids") are no command words, so a command word naming something else stays none. Sentences written for
these tests, not taken from the benchmark sets."""

from __future__ import annotations

import pytest

from bench import command_examples
from bench import sets as bench_sets
from voicecoach.datafile import packaged_yaml
from voicecoach.understanding import semantic
from voicecoach.understanding.intents import DialogueContext
from voicecoach.understanding.matcher import match_intent
from voicecoach.understanding.semantic_commands import (
    EXAMPLE_FILES, NOT_COMMANDS, Guess, _command_vocabulary, everyday_words, example_texts, our_examples,
)

needs_encoder = pytest.mark.skipif(not semantic.available(), reason="the sentence encoder is not installed")
GENERATED = EXAMPLE_FILES[-1]


def _generated_texts() -> set[str]:
    data = packaged_yaml("voicecoach.understanding", GENERATED)
    return {t for texts in data["intents"].values() for t in texts} | set(data["none"]) | set(data["question"])


def test_generated_examples_come_from_tuning_halves_only() -> None:
    """No text of any test half is an example, so the benchmark's test figures stay honest."""
    assert not bench_sets.test_half_texts() & _generated_texts()


def test_generated_examples_are_up_to_date_with_the_sets() -> None:
    built = command_examples.build()
    data = packaged_yaml("voicecoach.understanding", GENERATED)
    assert data == built


def test_generated_examples_hold_every_batch_and_every_kind() -> None:
    texts = _generated_texts()
    for names in (bench_sets.COMMAND_SETS, bench_sets.IGNORE_SETS, bench_sets.QUESTION_SETS):
        for name in names:
            assert any(c["text"] in texts for c in bench_sets.cases(name) if c["split"] == "tune"), name


def test_our_examples_give_each_text_to_one_class_only() -> None:
    ours = our_examples()
    flat = [t for texts in ours.values() for t in texts]
    assert len(flat) == len(set(flat))
    assert set(NOT_COMMANDS) <= set(ours)
    assert all(len(example_texts()[name]) >= len(ours[name]) for name in ours)


def test_words_of_asides_are_everyday_words_not_command_words() -> None:
    everyday = everyday_words()
    vocabulary = _command_vocabulary()
    for word in ("car", "dinner", "petrol"):
        assert word in everyday and word not in vocabulary, word
    for word in ("step", "next", "back", "again", "slower", "example", "please"):
        assert word not in everyday and word in vocabulary, word


@needs_encoder
@pytest.mark.parametrize("text", [
    "go back to the car to get my coat",
    "slow down the dinner can wait",
])
def test_a_command_word_about_something_everyday_is_no_command(guide, text) -> None:
    assert match_intent(text, guide, DialogueContext(step=4)).name == "none"


def test_a_word_no_command_uses_after_an_article_or_preposition_names_a_thing_and_is_no_command() -> None:
    sure = Guess("repeat", 0.95, 0.90, nearest=0.80, nearest_not_command=0.30)
    assert sure.is_command(words=8, unknown=1)
    assert not sure.is_command(words=8, unknown=1, objects=1)
