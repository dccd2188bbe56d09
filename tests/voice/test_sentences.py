"""Sentence chunking: what the speaker synthesizes one piece at a time."""

import pytest

from voicecoach.sentences import split_sentences

CASES = [
    ("Call 1 800 799 7233. Someone answers day and night!",
     ["Call 1 800 799 7233.", "Someone answers day and night!"]),
    ("Dr. Smith said hi. Is it okay? Yes!", ["Dr. Smith said hi.", "Is it okay?", "Yes!"]),
    ("Use a pen, e.g. a blue one. Then write.", ["Use a pen, e.g. a blue one.", "Then write."]),
    ("See Fig. 3 for details. Version 2.5 is out.", ["See Fig. 3 for details.", "Version 2.5 is out."]),
    ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
    ("J. R. R. Tolkien wrote it. The U.S. Army agreed.", ["J. R. R. Tolkien wrote it.", "The U.S. Army agreed."]),
    ("We live in the U.S. Then we moved.", ["We live in the U.S.", "Then we moved."]),
    ("Wait... then go. Really... No.", ["Wait... then go.", "Really...", "No."]),
    ("It costs $3.50. Pay at 5 p.m. sharp.", ["It costs $3.50.", "Pay at 5 p.m. sharp."]),
    ("What now?! Breathe.", ["What now?!", "Breathe."]),
    ("First paragraph\n\nSecond paragraph", ["First paragraph", "Second paragraph"]),
    ("A line that\nwraps inside a paragraph.", ["A line that wraps inside a paragraph."]),
    ("No final stop", ["No final stop"]),
    ("  ", []),
    ("...", []),
    ("Ask St. Anne. No. 5 is next.", ["Ask St. Anne.", "No. 5 is next."]),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_splitting_keeps_every_word():
    text = ("Take a breath. Mr. Jones waits, i.e. he is patient! Then call 1 800 799 7233? "
            "Fine.\n\nA new paragraph... and more.")
    assert " ".join(split_sentences(text)).split() == text.split()
