"""The guide schema as data, and a validator that walks a YAML node tree and reports every problem.

Problems carry the line and column of the node (from PyYAML's marks), the field path and what to do.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Union

import yaml

STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a guide, located in the file."""

    line: int  # 1-based
    column: int  # 1-based
    path: str  # e.g. steps[3].faq[0].answer
    message: str

    def format(self, filename: str) -> str:
        where = f"{filename}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


@dataclass(frozen=True)
class Text:
    """A non-empty string; optionally matching a pattern (described by `pattern_help`)."""

    pattern: str | None = None
    pattern_help: str = ""
    max_length: int = 4000


@dataclass(frozen=True)
class Integer:
    minimum: int = 1


@dataclass(frozen=True)
class ListOf:
    item: "Spec"
    min_items: int = 0
    max_items: int = 200


@dataclass(frozen=True)
class Fields:
    """A mapping with known keys; keys not listed in `optional` are required."""

    fields: dict[str, "Spec"]
    optional: frozenset[str] = field(default_factory=frozenset)


Spec = Union[Text, Integer, ListOf, Fields]

GUIDE_ID = Text(r"[a-z0-9]+(-[a-z0-9]+)*", "lowercase letters, digits and hyphens, like my-guide-2", 80)
CONCEPT_ID = Text(r"[a-z0-9]+(_[a-z0-9]+)*", "lowercase letters, digits and underscores, like active_listening", 80)
SHORT = Text(max_length=200)
PROSE = Text()

CONCEPT = Fields({"id": CONCEPT_ID, "aliases": ListOf(SHORT, 0, 30), "explanation": PROSE})
FAQ = Fields({"question": SHORT, "answer": PROSE})
STEP = Fields({
    "number": Integer(),
    "id": GUIDE_ID,
    "title": SHORT,
    "summary": PROSE,
    "body": ListOf(PROSE, 1, 30),
    "concepts": ListOf(CONCEPT, 1, 20),
    "examples": ListOf(PROSE, 2, 30),
    "faq": ListOf(FAQ, 3, 40),
    "reflection": PROSE,
})
SAFETY = Fields({"message": PROSE, "resources": ListOf(SHORT, 0, 20)}, optional=frozenset({"resources"}))
GUIDE = Fields({
    "id": GUIDE_ID,
    "title": SHORT,
    "language": Text(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", "a language tag such as en or en-GB", 20),
    "intro": PROSE,
    "outro": PROSE,
    "safety": SAFETY,
    "steps": ListOf(STEP, 1, 100),
})

_KIND_NAMES = {Text: "text", Integer: "a whole number", ListOf: "a list", Fields: "a mapping of fields"}


def _at(node: yaml.Node, path: str, message: str) -> Problem:
    return Problem(node.start_mark.line + 1, node.start_mark.column + 1, path, message)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate_node(node: yaml.Node, spec: Spec, path: str = "") -> list[Problem]:
    """Every problem of `node` against `spec`, in document order."""
    if isinstance(spec, Text):
        return _check_text(node, spec, path)
    if isinstance(spec, Integer):
        return _check_integer(node, spec, path)
    if isinstance(spec, ListOf):
        return _check_list(node, spec, path)
    return _check_fields(node, spec, path)


def _wrong_type(node: yaml.Node, spec: Spec, path: str) -> list[Problem]:
    found = {yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}.get(type(node), "a single value")
    if isinstance(node, yaml.ScalarNode) and node.tag == INT_TAG:
        found = "a number"
    elif isinstance(node, yaml.ScalarNode) and node.tag == STR_TAG:
        found = f"the text {node.value[:40]!r}"
    elif isinstance(node, yaml.ScalarNode):
        found = f"{node.value[:40]!r} (not text)"
    return [_at(node, path, f"expected {_KIND_NAMES[type(spec)]}, found {found}")]


def _check_text(node: yaml.Node, spec: Text, path: str) -> list[Problem]:
    if not isinstance(node, yaml.ScalarNode) or node.tag != STR_TAG:
        problems = _wrong_type(node, spec, path)
        if isinstance(node, yaml.ScalarNode) and node.value not in ("", "~", "null"):
            return [_at(node, path, problems[0].message + "; put it in quotes to make it text")]
        if isinstance(node, yaml.ScalarNode):
            return [_at(node, path, "is empty; write the text (or remove the field if it is optional)")]
        return problems
    value = node.value.strip()
    if not value:
        return [_at(node, path, "is empty; write the text")]
    if len(value) > spec.max_length:
        return [_at(node, path, f"is {len(value)} characters long; keep it under {spec.max_length} "
                                "(split it into shorter paragraphs)")]
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        return [_at(node, path, f"{value!r} is not a valid id: use {spec.pattern_help}")]
    return []


def _check_integer(node: yaml.Node, spec: Integer, path: str) -> list[Problem]:
    if not isinstance(node, yaml.ScalarNode) or node.tag != INT_TAG:
        return _wrong_type(node, spec, path)
    if int(node.value, 0) < spec.minimum:
        return [_at(node, path, f"must be {spec.minimum} or more")]
    return []


def _check_list(node: yaml.Node, spec: ListOf, path: str) -> list[Problem]:
    if not isinstance(node, yaml.SequenceNode):
        return _wrong_type(node, spec, path)
    count = len(node.value)
    if count < spec.min_items:
        need = f"at least {spec.min_items} item{'s' if spec.min_items != 1 else ''}"
        return [_at(node, path, f"has {count}; needs {need}")]
    if count > spec.max_items:
        return [_at(node, path, f"has {count} items; at most {spec.max_items} are allowed")]
    problems: list[Problem] = []
    for index, item in enumerate(node.value):
        problems += validate_node(item, spec.item, f"{path}[{index}]")
    return problems


def _check_fields(node: yaml.Node, spec: Fields, path: str) -> list[Problem]:
    if not isinstance(node, yaml.MappingNode):
        return _wrong_type(node, spec, path)
    problems: list[Problem] = []
    seen: set[str] = set()
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key not in spec.fields:
            problems.append(_at(key_node, path, _unknown_key_message(key_node, key, spec)))
            continue
        if key in seen:
            problems.append(_at(key_node, _join(path, key), "appears twice; keep one"))
            continue
        seen.add(key)
        problems += validate_node(value_node, spec.fields[key], _join(path, key))
    missing = [k for k in spec.fields if k not in seen and k not in spec.optional]
    for key in missing:
        problems.append(_at(node, _join(path, key), "is missing; add it"))
    return problems


def _unknown_key_message(key_node: yaml.Node, key: str | None, spec: Fields) -> str:
    if key is None:
        return "keys must be plain words"
    close = difflib.get_close_matches(key, list(spec.fields), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(spec.fields)}"
    return f"unknown key {key!r}; {hint}"
