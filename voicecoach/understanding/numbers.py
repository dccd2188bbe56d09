"""Step numbers as people say them: digits, number words, ordinals, first/last."""

from __future__ import annotations

UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORDINAL_UNITS = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                 "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
                 "sixteenth", "seventeenth", "eighteenth", "nineteenth"]
ORDINAL_TENS = ["", "", "twentieth", "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth",
                "eightieth", "ninetieth"]
# Words a recognizer writes for a number it heard ("step for", "go to step to").
HOMOPHONES = {"to": 2, "too": 2, "for": 4, "won": 1, "ate": 8, "tree": 3, "sex": 6, "fife": 5}
LAST = -1  # "last"/"final": resolved against the guide's length
FROM_END_WORDS = {"penultimate": -2}
# Said around "last": "the step before last", "the last but one".
FROM_END_PHRASES = {("before", "last"): -2, ("last", "but", "one"): -2}


def number_to_words(n: int) -> str:
    if n < 20:
        return UNITS[n]
    tens, unit = divmod(n, 10)
    return TENS[tens] + (f" {UNITS[unit]}" if unit else "")


def ordinal_to_words(n: int) -> str:
    if n < 20:
        return ORDINAL_UNITS[n]
    tens, unit = divmod(n, 10)
    return f"{TENS[tens]} {ORDINAL_UNITS[unit]}" if unit else ORDINAL_TENS[tens]


_CARDINALS = {number_to_words(n): n for n in range(1, 100)}
_ORDINALS = {ordinal_to_words(n): n for n in range(1, 100)}
_ORDINALS.update({"last": LAST, "final": LAST, "1st": 1, "2nd": 2, "3rd": 3})


def read_number(words: list[str], start: int, allow_homophones: bool = False) -> tuple[int, int] | None:
    """A cardinal at words[start:]: (value, words used), or None. Two-word forms ("twenty one") first."""
    if start >= len(words):
        return None
    word = words[start]
    if word.isdigit():
        return (int(word), 1) if len(word) <= 3 else None
    pair = " ".join(words[start:start + 2])
    if pair in _CARDINALS and " " in pair:
        return _CARDINALS[pair], 2
    if word in _CARDINALS:
        return _CARDINALS[word], 1
    if allow_homophones and word in HOMOPHONES:
        return HOMOPHONES[word], 1
    return None


def read_ordinal(words: list[str], start: int) -> tuple[int, int] | None:
    """An ordinal at words[start:] ("third", "twenty first", "4th", "last"): (value, words used); counted from
    the end it is negative: LAST (-1) for "last", -2 for "second to last" or "penultimate"."""
    if start >= len(words):
        return None
    if words[start] in FROM_END_WORDS:
        return FROM_END_WORDS[words[start]], 1
    for phrase, value in FROM_END_PHRASES.items():
        if tuple(words[start:start + len(phrase)]) == phrase:
            return value, len(phrase)
    plain = _read_plain_ordinal(words, start)
    if plain is None or plain[0] < 0:
        return plain
    value, used = plain
    after = words[start + used:start + used + 2]
    if len(after) == 2 and after[0] in ("to", "from") and after[1] in ("last", "final", "end"):
        return -value, used + 2
    return plain


def _read_plain_ordinal(words: list[str], start: int) -> tuple[int, int] | None:
    pair = " ".join(words[start:start + 2])
    if pair in _ORDINALS and " " in pair:
        return _ORDINALS[pair], 2
    word = words[start]
    if word in _ORDINALS:
        return _ORDINALS[word], 1
    if word[:-2].isdigit() and word[-2:] in ("st", "nd", "rd", "th"):
        return int(word[:-2]), 1
    return None
