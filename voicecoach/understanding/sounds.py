"""How a short phrase sounds, roughly: a key that spellings of the same sounds share, so that a recognizer's
sound-alike ("go bark", "slow wer", "egg sample", "wear am i", "pre vious") meets the command it heard.

The key is a rough English sound spelling, made word by word and joined: silent and weak letters go, letter
pairs that spell one sound become one symbol, a vowel run (with a following w or y, and an r that no vowel
follows, as most English speakers say it) becomes its first vowel, doubled sounds collapse, and a k or g (t or
d) is one sound, since recognizers swap them at word joins ("egg sample"). Nothing here knows any command.
"""

from __future__ import annotations

import re

_VOWELS = "aeiouy"  # for the endings: a y there counts as a vowel
# letter groups that spell one sound, longest first; applied left to right within a word
_GROUPS = (("tch", "C"), ("sch", "sk"), ("ph", "f"), ("ck", "k"), ("qu", "kw"), ("sh", "S"), ("ch", "C"),
           ("th", "T"), ("dg", "j"), ("gh", ""), ("x", "ks"), ("q", "k"), ("z", "s"), ("g", "k"), ("d", "t"))
_START = (("wh", "w"), ("wr", "r"), ("kn", "n"), ("gn", "n"), ("ps", "s"))


def _word_key(word: str) -> str:
    word = re.sub(r"[^a-z]", "", word.lower())
    if not word:
        return ""
    for spelled, sound in _START:
        if word.startswith(spelled):
            word = sound + word[len(spelled):]
            break
    if len(word) > 3 and word.endswith("ed") and word[-3] not in _VOWELS:
        word = word[:-2] + "d"  # "nexed": a past-tense ending is one sound
    if len(word) > 2 and word.endswith("e") and word[-2] not in _VOWELS and any(c in _VOWELS for c in word[:-2]):
        word = word[:-1]  # a silent final e ("pause", "example"), not the only vowel ("pre")
    word = re.sub(r"c(?=[eiy])", "s", word).replace("c", "k")
    for spelled, sound in _GROUPS:
        word = word.replace(spelled, sound)
    word = word.replace("h", "") if len(word) > 1 else word  # a weak h ("fast her", "where")
    word = re.sub(r"(?<=[^aeiou])y|^y(?![aeiou])", "i", word)  # y as a vowel ("summary", "my")
    # a vowel run, with a w/y glide and an r no vowel follows, sounds roughly like its first vowel
    word = re.sub(r"([aeiou])[aeiou]*[wy]?(?:r(?![aeiou]))?", r"\1", word)
    return re.sub(r"(.)\1+", r"\1", word)


def sound_key(words: list[str] | str) -> str:
    """The rough sound spelling of a phrase: its words' keys joined, doubled sounds collapsed."""
    if isinstance(words, str):
        words = words.split()
    joined = re.sub(r"(.)\1+", r"\1", "".join(_word_key(w) for w in words))
    return re.sub(r"(?<=[aeiou])[wy](?=[aeiou])", "", joined)  # a glide between vowels across a join ("slow wer")
