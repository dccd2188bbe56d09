"""Loading a guide from YAML: safe parsing with line numbers, limits, validation, and the Guide values.

A guide is all or nothing: any problem raises GuideError listing every problem found.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import yaml

from voicecoach.errors import GuideError
from voicecoach.guide.model import Concept, Faq, Guide, Safety, Step
from voicecoach.guide.schema import GUIDE, INT_TAG, STR_TAG, Problem, validate_node

MAX_GUIDE_BYTES = 1024 * 1024  # a ten-step guide is about 30 KB
MAX_DEPTH = 12  # the format nests 5 levels deep; anything deeper is not a guide


def load_guide(path: str | Path) -> Guide:
    """Read, check and build the guide at `path`; GuideError lists every problem."""
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_GUIDE_BYTES:
            raise GuideError(name, [f"{name}: the file is {size // 1024} KiB; guides are limited to "
                                    f"{MAX_GUIDE_BYTES // 1024} KiB (split it into several guides)"])
        data = path.read_bytes()
    except IsADirectoryError:
        raise GuideError(name, [f"{name}: is a folder; give the path of a .yaml guide file"]) from None
    except FileNotFoundError:
        raise GuideError(name, [f"{name}: no such file; check the path (`voicecoach content list` "
                                "shows the guides found)"]) from None
    except OSError as error:
        raise GuideError(name, [f"{name}: cannot be read ({error.strerror})"]) from None
    return parse_guide(data, name)


def parse_guide(data: bytes, name: str = "<guide>") -> Guide:
    """Check and build a guide from the bytes of a YAML file named `name` (used in messages)."""
    if len(data) > MAX_GUIDE_BYTES:
        raise GuideError(name, [f"{name}: {len(data) // 1024} KiB is over the {MAX_GUIDE_BYTES // 1024} KiB limit"])
    text = _decode(data, name)
    root = _compose(text, name)
    problems = validate_node(root, GUIDE) + _semantic_problems(root)
    if problems:
        problems.sort(key=lambda p: (p.line, p.column))
        raise GuideError(name, [p.format(name) for p in problems])
    return replace(_build(yaml.safe_load(text), name), content_hash=hashlib.sha256(data).hexdigest())


def _decode(data: bytes, name: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise GuideError(name, [f"{name}:{line}:{column}: the file is not UTF-8 text (byte "
                                f"0x{data[error.start]:02x}); save it as UTF-8"]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise GuideError(name, [f"{name}:{line}:1: the file holds binary data (a NUL byte); "
                                "a guide is a YAML text file"])
    return text


def _compose(text: str, name: str) -> yaml.Node:
    """The YAML node tree, after refusing anchors/aliases and deep nesting without building anything."""
    try:
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                mark = event.start_mark
                raise GuideError(name, [f"{name}:{mark.line + 1}:{mark.column + 1}: YAML anchors and "
                                        "aliases (& and *) are not allowed in guides; write the text out"])
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise GuideError(name, [f"{name}:{mark.line + 1}:{mark.column + 1}: nested more than "
                                            f"{MAX_DEPTH} levels deep; a guide is not that deep"])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        started = ""
        if error.context and error.context_mark and error.context_mark is not mark:
            started = (f" ({error.context}, which started at line {error.context_mark.line + 1}, "
                       f"column {error.context_mark.column + 1})")
        raise GuideError(name, [f"{where}: YAML syntax error: {error.problem or error.context}{started}; "
                                "check indentation and quoting there"]) from None
    except yaml.YAMLError as error:
        raise GuideError(name, [f"{name}: YAML error: {error}"]) from None
    if not documents or documents[0] is None:
        raise GuideError(name, [f"{name}:1:1: the file is empty; a guide needs id, title, language, "
                                "intro, outro, safety and steps (see content/FORMAT.md)"])
    if len(documents) > 1:
        raise GuideError(name, [f"{name}: holds {len(documents)} YAML documents; put one guide per file"])
    return documents[0]


def _semantic_problems(root: yaml.Node) -> list[Problem]:
    """Problems the schema cannot see: numbering, duplicate ids and aliases (skips malformed parts)."""
    problems: list[Problem] = []
    step_ids: dict[str, int] = {}
    concept_ids: dict[str, int] = {}
    names: dict[str, str] = {}
    for index, step in enumerate(_items(_field(root, "steps"))):
        here = f"steps[{index}]"
        number = _field(step, "number")
        if _is_scalar(number, INT_TAG) and int(number.value, 0) != index + 1:
            problems.append(_problem(number, f"{here}.number",
                                     f"is {number.value} but this is step {index + 1} in order; number "
                                     "the steps 1, 2, 3 ... in the order they appear"))
        problems += _duplicate(_field(step, "id"), f"{here}.id", step_ids, "step id")
        for c_index, concept in enumerate(_items(_field(step, "concepts"))):
            c_here = f"{here}.concepts[{c_index}]"
            id_node = _field(concept, "id")
            if not _is_scalar(id_node, STR_TAG):
                continue
            problems += _duplicate(id_node, f"{c_here}.id", concept_ids, "concept id")
            spoken = [id_node] + _items(_field(concept, "aliases"))
            for a_index, alias in enumerate(spoken):
                if not _is_scalar(alias, STR_TAG):
                    continue
                key = " ".join(alias.value.replace("_", " ").lower().split())
                owner = names.setdefault(key, id_node.value)
                if owner != id_node.value:
                    path = f"{c_here}.aliases[{a_index - 1}]" if a_index else f"{c_here}.id"
                    problems.append(_problem(alias, path, f"{key!r} already names concept {owner!r}; a "
                                                          "spoken name must point to one concept"))
    return problems


def _field(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


def _items(node: yaml.Node | None) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _is_scalar(node: yaml.Node | None, tag: str) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == tag and bool(node.value.strip())


def _problem(node: yaml.Node, path: str, message: str) -> Problem:
    return Problem(node.start_mark.line + 1, node.start_mark.column + 1, path, message)


def _duplicate(node: yaml.Node | None, path: str, seen: dict[str, int], what: str) -> list[Problem]:
    if not _is_scalar(node, STR_TAG):
        return []
    value = node.value.strip()
    if value in seen:
        return [_problem(node, path, f"{what} {value!r} is already used on line {seen[value]}; "
                                     "ids must be unique")]
    seen[value] = node.start_mark.line + 1
    return []


def _prose(value: str) -> str:
    return " ".join(value.split())


def _build(data: dict, name: str) -> Guide:
    steps = tuple(
        Step(
            number=s["number"],
            id=s["id"].strip(),
            title=_prose(s["title"]),
            summary=_prose(s["summary"]),
            body=tuple(_prose(p) for p in s["body"]),
            concepts=tuple(
                Concept(c["id"].strip(), tuple(_prose(a).lower() for a in c["aliases"]), _prose(c["explanation"]))
                for c in s["concepts"]
            ),
            examples=tuple(_prose(e) for e in s["examples"]),
            faq=tuple(Faq(_prose(f["question"]), _prose(f["answer"])) for f in s["faq"]),
            reflection=_prose(s["reflection"]),
        )
        for s in data["steps"]
    )
    safety = data["safety"]
    return Guide(
        id=data["id"].strip(),
        title=_prose(data["title"]),
        language=data["language"].strip(),
        intro=_prose(data["intro"]),
        outro=_prose(data["outro"]),
        safety=Safety(_prose(safety["message"]), tuple(_prose(r) for r in safety.get("resources", []))),
        steps=steps,
        source_path=name,
    )
