"""Expanding catalog templates: (a|b) alternatives and [x] optional parts into plain phrasings."""

from __future__ import annotations

import itertools
from functools import lru_cache


class TemplateError(ValueError):
    """A template in the phrase catalog is malformed (a bug in the catalog, not a user error)."""


def expand(template: str) -> list[str]:
    """Every phrasing a template stands for, spaces normalised, in order, without duplicates."""
    results = _expand(template.strip())
    seen: dict[str, None] = {}
    for phrase in results:
        seen.setdefault(" ".join(phrase.split()), None)
    return [p for p in seen if p]


@lru_cache(maxsize=4096)
def _expand(template: str) -> tuple[str, ...]:
    parts = _split_sequence(template)
    options_per_part: list[tuple[str, ...]] = []
    for kind, text in parts:
        if kind == "text":
            options_per_part.append((text,))
        else:
            choices = [c for alt in _split_alternatives(text) for c in _expand(alt)]
            if kind == "optional":
                choices.append("")
            options_per_part.append(tuple(choices))
    return tuple("".join(combo) for combo in itertools.product(*options_per_part))


def _split_sequence(template: str) -> list[tuple[str, str]]:
    """Top-level pieces: ("text", ...), ("group", inner) for (...), ("optional", inner) for [...]."""
    parts: list[tuple[str, str]] = []
    depth, start, opener = 0, 0, ""
    buffer = []
    for index, char in enumerate(template):
        if char in "([":
            if depth == 0:
                if buffer:
                    parts.append(("text", "".join(buffer)))
                    buffer = []
                start, opener = index + 1, char
            depth += 1
        elif char in ")]":
            depth -= 1
            if depth < 0:
                raise TemplateError(f"unbalanced {char!r} in {template!r}")
            if depth == 0:
                if (opener, char) not in (("(", ")"), ("[", "]")):
                    raise TemplateError(f"mismatched brackets in {template!r}")
                parts.append(("group" if opener == "(" else "optional", template[start:index]))
        elif depth == 0:
            buffer.append(char)
    if depth:
        raise TemplateError(f"unclosed bracket in {template!r}")
    if buffer:
        parts.append(("text", "".join(buffer)))
    return parts


def _split_alternatives(inner: str) -> list[str]:
    alternatives, depth, current = [], 0, []
    for char in inner:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "|" and depth == 0:
            alternatives.append("".join(current))
            current = []
        else:
            current.append(char)
    alternatives.append("".join(current))
    return alternatives
