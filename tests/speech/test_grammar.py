"""Grammar generation from phrase lists."""

from __future__ import annotations

import json

from voicecoach.speech.grammar import compound_entries, jsgf_grammar, phrase_of, unique_phrases, vosk_grammar


def test_phrases_are_normalised_and_deduplicated():
    assert unique_phrases(["Next step!", "next  step", "What’s next?", ""]) == ["next step", "what's next"]


def test_vosk_grammar_is_a_json_list_ending_in_unk():
    assert json.loads(vosk_grammar(["Go back", "next"])) == ["go back", "next", "[unk]"]


def test_jsgf_lists_every_phrase():
    text = jsgf_grammar(["go back", "next"])
    assert text.startswith("#JSGF V1.0;") and "( go back ) | ( next )" in text


def test_compounds_use_the_dictionary_and_report_unknown_words():
    dictionary = {"go": "G OW", "back": "B AE K"}
    entries, unknown = compound_entries(["go back", "go zorblax"], dictionary.get)
    assert [(e.word, e.pronunciation) for e in entries] == [("__go_back", "G OW B AE K")]
    assert unknown == ["go zorblax"]
    assert phrase_of("__go_back(2)") == "go back" and phrase_of("back") is None
