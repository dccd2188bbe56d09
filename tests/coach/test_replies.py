"""The coach's wording (phrases.yaml) and the sentence splitting that lets a pause keep its exact place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voicecoach.coach.replies import PHRASES_PATH, Action, Reply, make_reply, phrase_book
from voicecoach.sentences import split_sentences

COACH_SOURCES = "\n".join(p.read_text() for p in Path(PHRASES_PATH).parent.glob("*.py"))


@pytest.mark.parametrize("text, expected", [
    ("One. Two! Three?", ("One.", "Two!", "Three?")),
    ("Say \"stop.\" Then wait.", ("Say \"stop.\"", "Then wait.")),
    ("Ask Dr. Lee, e.g. at 9. Then rest.", ("Ask Dr. Lee, e.g. at 9.", "Then rest.")),
    ("Call 1 800 799 7233. Or text.", ("Call 1 800 799 7233.", "Or text.")),
    ("  spaced\n  out.   Lines ", ("spaced out.", "Lines")),
    ("It costs 3.50 a pot. Fine.", ("It costs 3.50 a pot.", "Fine.")),
    ("", ()),
])
def test_sentences_split_at_sentence_ends_only(text: str, expected: tuple[str, ...]) -> None:
    assert tuple(split_sentences(text)) == expected


def test_every_phrase_is_used_by_the_coach_and_is_plain_spoken_text() -> None:
    book = phrase_book()
    unused = [key for key in book.templates if f'"{key}"' not in COACH_SOURCES]
    assert not unused
    for key, template in book.templates.items():
        if key == "or_word":
            continue
        assert template.rstrip().endswith((".", "?", "!", "}")), key  # a field ends its own sentence
        assert not re.search(r"[*_#`<>\[\]]", re.sub(r"\{\w+\}", "", template)), key


def test_a_field_ending_a_sentence_does_not_get_a_second_full_stop() -> None:
    text = phrase_book().say("step_heading", number=2, total=3, title="Why wait?")
    assert text == "Step 2 of 3: Why wait?"


def test_a_reply_is_its_sentences_joined_and_never_empty() -> None:
    reply = make_reply(["One.", "  ", "Two."], Action.LISTEN, 170)
    assert reply.text == "One. Two." and reply.sentences == ("One.", "Two.")
    with pytest.raises(ValueError):
        Reply("", Action.LISTEN, 170, ())
