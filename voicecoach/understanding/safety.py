"""Recognising an utterance that reveals danger (safety.yaml), before any other reading of it.

Words are first put in one shape: contractions spelled out, each word reduced to a light stem, so one
pattern covers every tense and form ("kill myself", "killing myself", "killed myself"). Patterns are then
matched as regular expressions over the stems; a match is cancelled when an idiom overlaps it ("this
traffic is killing me"), unless the pattern is one no idiom can cancel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


from voicecoach.datafile import packaged_yaml
from voicecoach.understanding.text import tokenize

GAP = "..."  # up to MAX_GAP other words
END = "<end>"  # the end of the utterance
AND = "&&"  # parts that must all be found somewhere in the utterance, in any order
MAX_GAP = 3
DOUBLED = frozenset("bdgmnprt")  # "stabbing" -> "stab"; "kill", "pass", "see" keep their double letters
ENDINGS = ("ing", "ed", "es", "s")
MIN_STEM = 3


class SafetyPatternError(ValueError):
    """A pattern in safety.yaml is malformed (a bug in the data, not a user error)."""


@dataclass(frozen=True)
class SafetyConcern:
    """Why an utterance reached the safety path: the kind of danger and the words that showed it."""

    category: str
    words: str
    certain: bool = False  # matched by a pattern no idiom or story can cancel (safety.yaml `always`)


@dataclass(frozen=True)
class _Rule:
    """One crisis pattern; a pattern of several parts ("A && B") needs every part somewhere in the utterance."""

    category: str
    source: str
    parts: tuple[re.Pattern[str], ...]
    always: bool

    def find(self, line: str, idiom_spans: list[tuple[int, int]], fixed_spans: list[tuple[int, int]]) -> str | None:
        """The words that matched, unless an idiom cancels them (any idiom at all, for a several-part rule; only a
        fixed idiom, for a rule under `always`)."""
        cancelling = fixed_spans if self.always else idiom_spans
        if len(self.parts) > 1:
            found = [part.search(line) for part in self.parts]
            if all(found) and not cancelling:
                return " / ".join(m.group(0).strip() for m in found if m)
            return None
        for match in self.parts[0].finditer(line):
            start, end = match.span()
            if not any(s < end and start < e for s, e in cancelling):
                return match.group(0).strip()
        return None


@dataclass(frozen=True)
class _Rules:
    contractions: dict[str, tuple[str, ...]]
    irregular: dict[str, str]
    crisis: tuple[_Rule, ...]
    idioms: tuple[re.Pattern[str], ...]
    fixed_idioms: tuple[re.Pattern[str], ...]  # cancel `always` matches too
    fiction: tuple[re.Pattern[str], ...]
    play: tuple[re.Pattern[str], ...]
    first_person: re.Pattern[str]
    consent: tuple[re.Pattern[str], ...]  # the speaker chose or agreed to the arrangement
    consent_categories: frozenset[str]  # the categories whose matches consent cancels
    resolved: tuple[re.Pattern[str], ...]
    recurring: tuple[re.Pattern[str], ...]


def word_stem(word: str, irregular: dict[str, str] | None = None) -> str:
    """A light stem that meets a word's forms in one place: kill/kills/killing/killed -> "kill"."""
    irregular = _rules().irregular if irregular is None else irregular
    if word in irregular:
        word = irregular[word]
        if irregular.get(word) == word:  # a fixed point: "rape" must not become "rap"
            return word
        irregular = {}
    return _regular_stem(word)


def _regular_stem(word: str) -> str:
    for ending in ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            if ending == "s" and word.endswith(("ss", "us", "is")):
                break
            base = word[: -len(ending)]
            if base[-1] == base[-2] and base[-1] in DOUBLED:
                base = base[:-1]
            return _strip_e(base)
    return _strip_e(word)


def _strip_e(word: str) -> str:
    return word[:-1] if word.endswith("e") and len(word) > MIN_STEM else word


def stems_of(text: str) -> list[str]:
    """The utterance's words with contractions spelled out, each as its stem."""
    rules = _rules()
    words: list[str] = []
    for token in tokenize(text):
        if token in rules.contractions:
            words.extend(rules.contractions[token])
            continue
        if token.endswith("n't") and len(token) > 3:  # "haven't", "couldn't": the verb, then "not"
            words.extend([token[:-3], "not"])
            continue
        for suffix in ("'ll", "'d", "'s", "'re", "'ve"):
            if token.endswith(suffix) and len(token) > len(suffix):
                words.extend([token[: -len(suffix)], *rules.contractions.get(suffix, ())])
                break
        else:
            words.append(token.replace("'", ""))
    stems = [word_stem(w, rules.irregular) for w in words]
    # a word said twice in a row is a stumble ("cutting my my thighs"), not two words
    return [stem for index, stem in enumerate(stems) if index == 0 or stem != stems[index - 1]]


def find_concern(text: str) -> SafetyConcern | None:
    """The danger an utterance reveals, or None. Never raises."""
    rules = _rules()
    line = " " + " ".join(stems_of(text)) + " "
    if not line.strip():
        return None
    fixed_spans = [m.span() for idiom in rules.fixed_idioms for m in idiom.finditer(line)]
    idiom_spans = [m.span() for idiom in rules.idioms for m in idiom.finditer(line)] + fixed_spans
    in_fiction = any(pattern.search(line) for pattern in rules.fiction)
    in_play = any(pattern.search(line) for pattern in rules.play)
    by_consent = any(pattern.search(line) for pattern in rules.consent)
    in_the_past = (any(pattern.search(line) for pattern in rules.resolved)
                   and not any(pattern.search(line) for pattern in rules.recurring))
    for rule in rules.crisis:
        words = rule.find(line, idiom_spans, fixed_spans)
        if words is None:
            continue
        if in_fiction and not rule.always and not rules.first_person.search(f" {words} "):
            continue
        if (in_play or in_the_past) and not rule.always:
            continue
        if by_consent and rule.category in rules.consent_categories and not rule.always:
            continue
        return SafetyConcern(rule.category, words, rule.always)
    return None


def hearing_phrases() -> list[str]:
    """Plain statements of danger a grammar-bound recognizer must be able to hear (safety.yaml `hear`)."""
    data = _data()
    phrases: list[str] = []
    for phrase in _listed(data["hear"]):
        fills = data["hear_who"] if "{who}" in phrase else [""]
        phrases += [phrase.replace("{who}", str(who)) for who in fills]
    return list(dict.fromkeys(phrases))


@lru_cache(maxsize=1)
def _data() -> dict:
    return packaged_yaml("voicecoach.understanding", "safety.yaml")


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    data = _data()
    contractions = {str(k): tuple(str(v).split()) for k, v in data["contractions"].items()}
    irregular = {str(k): str(v) for k, v in data["irregular"].items()}
    compiler = _Compiler(irregular)
    for name, pattern in data["groups"].items():
        compiler.groups[name] = compiler.regex(str(pattern))

    def compiled(*keys: str) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile("(?<= )" + compiler.regex(p)) for key in keys for p in _listed(data.get(key)))

    always = set(_listed(data["always"]))
    orphans = always - {p for patterns in data["crisis"].values() for p in _listed(patterns)}
    if orphans:
        raise SafetyPatternError(f"`always` lists patterns no crisis category has: {sorted(orphans)}")
    crisis = tuple(
        _Rule(category, p, tuple(re.compile("(?<= )" + compiler.regex(part)) for part in p.split(AND)), p in always)
        for category, patterns in data["crisis"].items() for p in _listed(patterns)
    )
    crisis = tuple(sorted(crisis, key=lambda r: not r.always))
    consent = data["consent"]
    return _Rules(
        contractions, irregular, crisis, compiled("idioms"), compiled("fixed_idioms"), compiled("fiction", "work"),
        compiled("play"), re.compile("(?<= )" + compiler.regex(str(data["first_person"]))),
        tuple(re.compile("(?<= )" + compiler.regex(p)) for p in _listed(consent["patterns"])),
        frozenset(_listed(consent["categories"])), compiled("resolved"), compiled("recurring"))


def _listed(values: list | None) -> list[str]:
    """A list of patterns from safety.yaml without its notes: an item written "- # note" reads as None, and
    must never become a pattern (as the word "none" it once matched every utterance that said it)."""
    return [str(v) for v in values or [] if v is not None]


class _Compiler:
    """Turns the pattern syntax of safety.yaml into regular expressions over space-separated stems.

    Every piece's regex consumes its words with their trailing spaces, so pieces concatenate freely.
    """

    def __init__(self, irregular: dict[str, str]) -> None:
        self.irregular = irregular
        self.groups: dict[str, str] = {}

    def regex(self, pattern: str) -> str:
        if "?" in pattern:
            raise SafetyPatternError(f"use [x] for an optional part, not (x)?, in {pattern!r}")
        tokens = re.findall(r"\(|\)|\[|\]|\||[^\s()\[\]|]+", pattern)
        regex, position = self._alternatives(tokens, 0, pattern)
        if position != len(tokens):
            raise SafetyPatternError(f"unbalanced brackets in {pattern!r}")
        return regex

    def _alternatives(self, tokens: list[str], position: int, pattern: str) -> tuple[str, int]:
        options = []
        while True:
            sequence, position = self._sequence(tokens, position, pattern)
            options.append(sequence)
            if position < len(tokens) and tokens[position] == "|":
                position += 1
                continue
            return (options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")"), position

    def _sequence(self, tokens: list[str], position: int, pattern: str) -> tuple[str, int]:
        parts = []
        while position < len(tokens) and tokens[position] not in ("|", ")", "]"):
            token = tokens[position]
            if token in ("(", "["):
                inner, position = self._alternatives(tokens, position + 1, pattern)
                closer = ")" if token == "(" else "]"
                if position >= len(tokens) or tokens[position] != closer:
                    raise SafetyPatternError(f"unclosed {token!r} in {pattern!r}")
                parts.append(f"(?:{inner})" + ("?" if token == "[" else ""))
            else:
                parts.append(self._word(token, pattern))
            position += 1
        return "".join(parts), position

    def _word(self, token: str, pattern: str) -> str:
        if token == GAP:
            return r"(?:\S+ ){0,%d}" % MAX_GAP
        if token == END:
            return "$"
        if token.startswith("*"):
            raise SafetyPatternError(f"'*' must end a word (write each word of a group with its own *) in {pattern!r}")
        if token.startswith("$"):
            if token[1:] not in self.groups:
                raise SafetyPatternError(f"unknown group {token!r} in {pattern!r}")
            return f"(?:{self.groups[token[1:]]})"
        if token.endswith("*"):
            return re.escape(_strip_e(token[:-1].lower())) + r"\S* "
        pieces = [word_stem(w, self.irregular) for w in tokenize(token)] or [token]
        return "".join(re.escape(p) + " " for p in pieces)
