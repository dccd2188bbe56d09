"""The settings file on disk: reading it with located problems, keeping a damaged one aside, and saving
atomically (a temporary file in the same folder, then os.replace)."""

from __future__ import annotations

import os
import re
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from voicecoach.config import user_config_dir
from voicecoach.errors import VoicecoachError
from voicecoach.settings.keys import (BY_NAME, BadValue, SettingKey, Value, check_value, find_key, known_keys,
                                      parse_text, suggest)
from voicecoach.settings.toml_text import key_lines, remove_line, set_line, table_line, template

SETTINGS_NAME = "settings.toml"
MAX_BYTES = 64 * 1024  # a full settings file is about 2 KB
SHOW_HINT = "fix the lines above (`voicecoach settings show` checks the file), or remove them to use the defaults"


class SettingsError(VoicecoachError):
    """A settings key or value that is not allowed; `problems` are located, one line each."""

    exit_code = 2

    def __init__(self, message: str, hint: str = "", problems: tuple[str, ...] = ()) -> None:
        self.problems = tuple(problems)
        body = message + "".join(f"\n  {p}" for p in problems)
        super().__init__(body, hint)


@dataclass(frozen=True)
class Settings:
    """The settings file as read. `state`: absent, valid, invalid (some keys or values not allowed: those
    are left out of `values` and described in `problems`) or damaged (not TOML; `damage` says why, and
    `moved_to` is where it was kept aside, if it was)."""

    path: Path
    state: str
    values: dict[str, Value] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    damage: str = ""
    moved_to: Path | None = None

    def get(self, name: str) -> Value | None:
        return self.values.get(name)

    def warning(self) -> str | None:
        """The one warning `run` shows for this file, or None when there is nothing to say."""
        if self.state == "damaged":
            kept = f"it was kept aside as {self.moved_to}" if self.moved_to else "it could not be moved aside"
            return (f"the settings file {self.path} cannot be read ({self.damage}); {kept} and the defaults "
                    "are used (`voicecoach settings set` starts a new file)")
        if self.state == "invalid":
            count = len(self.problems)
            return (f"{count} problem{'s' if count != 1 else ''} in the settings file; the defaults are used "
                    "for " + ("it" if count == 1 else "them") + ":" + "".join(f"\n  {p}" for p in self.problems))
        return None


def settings_path() -> Path:
    """Where the settings file lives (VOICECOACH_CONFIG_DIR overrides the user config folder)."""
    return user_config_dir() / SETTINGS_NAME


def read_settings(path: Path | None = None, *, move_damaged: bool = True) -> Settings:
    """The settings at `path` (the user's file by default). Never raises for the file's content: a
    damaged file is reported (and with `move_damaged`, renamed to `<name>.broken-<time>`)."""
    path = Path(path) if path is not None else settings_path()
    if not path.exists() and not path.is_symlink():
        return Settings(path, "absent")
    try:
        text = _read_text(path)
        data = tomllib.loads(text)
    except (OSError, ValueError) as error:  # TOMLDecodeError and UnicodeDecodeError are ValueErrors
        reason = error.strerror if isinstance(error, OSError) and error.strerror else _located(str(error))
        moved = _move_aside(path) if move_damaged else None
        return Settings(path, "damaged", damage=reason, moved_to=moved)
    values, problems = _check(path, text, data)
    return Settings(path, "invalid" if problems else "valid", values, tuple(problems))


def require_key(name: str) -> SettingKey:
    """The key called `name`; SettingsError listing the keys (and the likely one) otherwise."""
    key = find_key(name)
    if key is None:
        raise SettingsError(f'no setting called "{name}"{suggest(name)}', f"settings are: {known_keys()}")
    return key


def set_setting(name: str, text: str, path: Path | None = None) -> tuple[SettingKey, Value, Settings]:
    """Set `name` to the value typed as `text` and save; returns the key, the value and the file as it was
    before (damaged files are kept aside first). SettingsError for a wrong key or value."""
    key = require_key(name)
    try:
        value = parse_text(key, text)
    except BadValue as error:
        raise SettingsError(f"{key.name}: {error}", f"{key.name} takes {key.allowed()}") from None
    before = read_settings(path)
    current = _read_text(before.path) if before.state in ("valid", "invalid") else template()
    save_text(before.path, set_line(current, key.name, value))
    return key, value, before


def unset_setting(name: str, path: Path | None = None) -> tuple[SettingKey, bool]:
    """Remove `name` from the file (back to its default); returns the key and whether it was set."""
    key = require_key(name)
    before = read_settings(path)
    if before.state not in ("valid", "invalid"):
        return key, False
    text = _read_text(before.path)
    if key.name not in key_lines(text):
        return key, False
    save_text(before.path, remove_line(text, key.name))
    return key, True


def create_template(path: Path | None = None) -> Path:
    """Write the commented template (every key, none set) if there is no file yet; returns the path."""
    path = Path(path) if path is not None else settings_path()
    if not path.exists():
        save_text(path, template())
    return path


def save_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically: readers see the old file or the new one, never a mix."""
    tomllib.loads(text)  # never write a file that would not read back
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _read_text(path: Path) -> str:
    with open(path, "rb") as stream:
        data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValueError(f"over {MAX_BYTES // 1024} KiB, not a settings file")
    if b"\x00" in data:
        raise ValueError("it holds binary data (a NUL byte)")
    return data.decode("utf-8-sig")


def _check(path: Path, text: str, data: dict) -> tuple[dict[str, Value], list[str]]:
    """The allowed values, and a located problem for every key or value that is not."""
    where = key_lines(text)
    values: dict[str, Value] = {}
    problems: list[tuple[tuple[int, int], str]] = []
    for name, raw in data.items():
        if isinstance(raw, dict):
            at = table_line(text, name) or where.get(name, (1, 1))
            problems.append((at, f"[{name}]: the settings file has no tables{suggest(name)}; write "
                                 "`key = value` lines at the top level (settings are: " + known_keys() + ")"))
            continue
        at = where.get(name, (1, 1))
        key = BY_NAME.get(name)
        if key is None:
            problems.append((at, f'{name}: no setting called "{name}"{suggest(name)}; settings are: '
                                 f"{known_keys()}"))
            continue
        try:
            values[name] = check_value(key, raw)
        except BadValue as error:
            problems.append((at, f"{name}: {error}"))
    problems.sort(key=lambda item: item[0])
    return values, [f"{path}:{line}:{column}: {message}" for (line, column), message in problems]


def _located(message: str) -> str:
    """tomllib's "Invalid value (at line 3, column 9)" as "line 3, column 9: invalid value"."""
    match = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message)
    if not match:
        return message
    what = match.group(1)
    return f"line {match.group(2)}, column {match.group(3)}: {what[:1].lower()}{what[1:]}"


def _move_aside(path: Path) -> Path | None:
    """Rename a damaged file to `<name>.broken-<YYYYmmdd-HHMMSS>` beside it; None if that fails."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(100):
        target = path.with_name(f"{path.name}.broken-{stamp}" + (f"-{attempt}" if attempt else ""))
        if target.exists():
            continue
        try:
            os.replace(path, target)
        except OSError:
            return None
        return target
    return None
