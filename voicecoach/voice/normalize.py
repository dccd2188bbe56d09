"""Written text to the words a voice should say: amounts of money, times, years and decades, ordinals,
phone numbers, percentages, titles and abbreviations (the shorthand itself is data: spoken_forms.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

_DATA = Path(__file__).with_name("spoken_forms.yaml")

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                  "nine": "ninth", "twelve": "twelfth"}


@dataclass(frozen=True)
class SpokenForms:
    """The shorthand table from spoken_forms.yaml."""

    titles: dict[str, str]
    anywhere: dict[str, str]
    after_number: dict[str, tuple[str, str]]
    currency: dict[str, tuple[str, str, str, str]]


@lru_cache(maxsize=1)
def spoken_forms() -> SpokenForms:
    data = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    return SpokenForms(dict(data["titles"]), dict(data["anywhere"]),
                       {k: tuple(v) for k, v in data["after_number"].items()},
                       {k: tuple(v) for k, v in data["currency"].items()})


def cardinal(number: int) -> str:
    """2024 -> "two thousand twenty-four"; negative numbers get "minus"."""
    if number < 0:
        return "minus " + cardinal(-number)
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {cardinal(rest)}" if rest else "")
    for size, name in _SCALES:
        if number >= size:
            high, rest = divmod(number, size)
            return f"{cardinal(high)} {name}" + (f" {cardinal(rest)}" if rest else "")
    raise AssertionError("unreachable")


def ordinal(number: int) -> str:
    """21 -> "twenty-first"."""
    words = cardinal(number)
    head, sep, last = words.rpartition("-") if "-" in words.split(" ")[-1] else words.rpartition(" ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def year(number: int) -> str:
    """1995 -> "nineteen ninety-five", 2005 -> "two thousand five", 2024 -> "twenty twenty-four"."""
    high, low = divmod(number, 100)
    if 2000 <= number < 2010 or low == 0 and number % 1000 == 0:
        return cardinal(number)
    if low == 0:
        return f"{cardinal(high)} hundred"
    return f"{cardinal(high)} {'oh ' + _ONES[low] if low < 10 else cardinal(low)}"


def _plural_decade(words: str) -> str:
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def _digits(group: str) -> str:
    return " ".join(_ONES[int(d)] for d in group)


_NUMBER = r"\d{1,3}(?:,\d{3})+|\d+"
_PHONE = re.compile(r"(?<![\w.,])(?:\+?\d{1,4}[ .-]){2,4}\d{2,4}(?![\w]|[.,]\d)")
_MONEY = re.compile(r"(?P<sym>[$£€])\s?(?P<whole>" + _NUMBER + r")(?:\.(?P<frac>\d+))?"
                    r"(?:\s(?P<scale>thousand|million|billion))?\b")
_TIME = re.compile(r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?:\s?(?P<ap>[AaPp])\.?[Mm](?:\.(?=\s+[a-z]))?)?(?!\w)"
                   r"|\b(?P<h2>1[0-2]|[1-9])\s?(?P<ap2>[AaPp])\.?[Mm](?:\.(?=\s+[a-z]))?(?!\w)")
_DECADE = re.compile(r"\b(?P<century>1[1-9]|20)(?P<decade>[0-9]0)'?s\b|(?<!\w)['’](?P<short>[0-9]0)s\b")
_YEAR = re.compile(r"(?<![\d,.$£€])\b(?P<year>1[1-9]\d\d|20\d\d)\b(?![,.]\d)")
_ORDINAL = re.compile(r"\b(?P<n>\d+)(?:st|nd|rd|th)\b")
_RANGE = re.compile(r"\b(?P<a>\d+)\s?[-–]\s?(?P<b>\d+)\b")
_DECIMAL = re.compile(r"(?<![\d.])(?P<whole>\d+)\.(?P<frac>\d+)(?![\d.])")
_PLAIN = re.compile(r"(?<![\w.])(?P<n>" + _NUMBER + r")(?!\w|\.\d)")


def spoken_form(text: str) -> str:
    """`text` with its numbers and shorthand written out as words; other text is left as it is."""
    forms = spoken_forms()
    text = _PHONE.sub(lambda m: ", ".join(_digits(g) for g in re.split(r"[ .-]", m.group().lstrip("+"))), text)
    text = _MONEY.sub(lambda m: _money(m, forms), text)
    text = _TIME.sub(_time, text)
    text = _DECADE.sub(_decade, text)
    text = _YEAR.sub(lambda m: year(int(m.group("year"))), text)
    text = _ORDINAL.sub(lambda m: ordinal(int(m.group("n"))), text)
    text = _RANGE.sub(lambda m: f"{m.group('a')} to {m.group('b')}", text)
    text = _units(text, forms)
    text = _abbreviations(text, forms)
    text = _DECIMAL.sub(lambda m: f"{_number(m.group('whole'))} point {_digits(m.group('frac'))}", text)
    return _PLAIN.sub(lambda m: _number(m.group("n")), text)


def _number(written: str) -> str:
    return cardinal(int(written.replace(",", "")))


def _money(match: re.Match, forms: SpokenForms) -> str:
    one, many, one_part, many_parts = forms.currency[match.group("sym")]
    whole = int(match.group("whole").replace(",", ""))
    if match.group("scale"):
        fraction = f" point {_digits(match.group('frac'))}" if match.group("frac") else ""
        return f"{cardinal(whole)}{fraction} {match.group('scale')} {many}"
    if match.group("frac") and len(match.group("frac")) != 2:
        return f"{cardinal(whole)} point {_digits(match.group('frac'))} {many}"
    parts = int(match.group("frac") or 0)
    spoken = f"{cardinal(whole)} {one if whole == 1 else many}" if whole or not parts else ""
    if parts:
        spoken += (" and " if spoken else "") + f"{cardinal(parts)} {one_part if parts == 1 else many_parts}"
    return spoken


def _time(match: re.Match) -> str:
    hour = int(match.group("h") or match.group("h2"))
    minute = int(match.group("m") or 0)
    meridiem = (match.group("ap") or match.group("ap2") or "").upper()
    if minute == 0:
        words = f"{cardinal(hour)}" + ("" if meridiem else " o'clock")
    else:
        words = f"{cardinal(hour)} {'oh ' + _ONES[minute] if minute < 10 else cardinal(minute)}"
    return f"{words} {meridiem} M" if meridiem else words


def _decade(match: re.Match) -> str:
    if match.group("short"):
        return _plural_decade(cardinal(int(match.group("short"))))
    century, decade = int(match.group("century")), int(match.group("decade"))
    if decade == 0:
        return f"{year(century * 100)}s" if century != 20 else "two thousands"
    return f"{cardinal(century)} {_plural_decade(cardinal(decade))}"


def _units(text: str, forms: SpokenForms) -> str:
    units = "|".join(re.escape(u) for u in sorted(forms.after_number, key=len, reverse=True))
    pattern = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s?(?P<unit>" + units + r")(?:\.(?=\s[a-z]))?(?!\w)")

    def say(match: re.Match) -> str:
        one, many = forms.after_number[match.group("unit")]
        return f"{match.group('n')} {one if match.group('n') == '1' else many}"

    return pattern.sub(say, text)


def _abbreviations(text: str, forms: SpokenForms) -> str:
    titles = "|".join(re.escape(t) for t in forms.titles)
    text = re.sub(r"\b(?P<t>" + titles + r")\.?(?=\s+[A-Z])", lambda m: forms.titles[m.group("t")], text)
    for written, said in sorted(forms.anywhere.items(), key=lambda kv: len(kv[0]), reverse=True):
        left = r"(?<!\w)" if written[0].isalnum() else ""
        right = r"(?!\w)" if written[-1].isalnum() else ""
        text = re.sub(left + re.escape(written) + right, said, text)
    return text
