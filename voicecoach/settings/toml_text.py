"""The settings file as text: where each key sits (line and column, for located errors), writing a value
in TOML, setting or removing one key while keeping every other line and comment, and the new file's
template. The file is flat: one `key = value` per line, no tables."""

from __future__ import annotations

import re

from voicecoach.settings.keys import KEYS, Value

_KEY_LINE = re.compile(r"""^(?P<indent>[ \t]*)(?P<key>[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')[ \t]*=""")
_TABLE_LINE = re.compile(r"^[ \t]*\[")

HEADER = """\
# voicecoach settings: what `voicecoach run` uses unless a flag says otherwise for one run.
# Edit by hand (TOML: text in quotes, true/false, numbers bare) or with
# `voicecoach settings set KEY VALUE`; `voicecoach settings show` checks the file.
# Remove a line (or `voicecoach settings unset KEY`) to go back to the default.
"""


def key_lines(text: str) -> dict[str, tuple[int, int]]:
    """Each top-level key's (line, column), 1-based, as written (quotes removed); tables end the scan."""
    found: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if _TABLE_LINE.match(line):
            break
        match = _KEY_LINE.match(line)
        if match:
            key = match.group("key").strip("\"'")
            found.setdefault(key, (number, len(match.group("indent")) + 1))
    return found


def table_line(text: str, name: str) -> tuple[int, int] | None:
    """Where the table header `[name]` is (1-based), if it is there."""
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(rf"""^[ \t]*\[+[ \t]*["']?{re.escape(name)}["']?[ \t]*[\].]""", line):
            return number, line.index("[") + 1
    return None


def toml_value(value: Value) -> str:
    """`value` as a TOML literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
               .replace("\r", "\\r"))
    return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c for c in escaped) + '"'


def set_line(text: str, name: str, value: Value) -> str:
    """`text` with `name = value`: the key's line replaced where it is, else added (see below)."""
    new_line = f"{name} = {toml_value(value)}"
    lines = text.splitlines()
    where = key_lines(text).get(name)
    if where is not None:
        old = lines[where[0] - 1]
        comment = _trailing_comment(old)
        lines[where[0] - 1] = new_line + (f"  {comment}" if comment else "")
    else:  # under its commented example in the template, else before any table, else at the end
        example = next((i for i, line in enumerate(lines) if re.match(rf"^#[ \t]*{re.escape(name)}[ \t]*=", line)),
                       None)
        table = next((i for i, line in enumerate(lines) if _TABLE_LINE.match(line)), len(lines))
        lines.insert(example + 1 if example is not None and example < table else table, new_line)
    return "\n".join(lines) + "\n"


def remove_line(text: str, name: str) -> str:
    """`text` without the line that sets `name`."""
    where = key_lines(text).get(name)
    if where is None:
        return text
    lines = text.splitlines()
    del lines[where[0] - 1]
    return "\n".join(lines) + "\n"


def template() -> str:
    """A new file: the header and every key, commented out, with what it does and accepts."""
    parts = [HEADER]
    for key in KEYS:
        parts.append(f"\n# {key.help}; {key.allowed()} ({key.flag})\n# {key.name} = {toml_value(key.example)}\n")
    return "".join(parts)


def _trailing_comment(line: str) -> str:
    """A `# ...` after the value on a simple line (not inside quotes), else ''."""
    quote, escaped = "", False
    for index, char in enumerate(line):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[index:].strip()
    return ""
