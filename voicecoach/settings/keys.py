"""The settings a user can keep, as data: each key, the `voicecoach run` option it stands for, what it
accepts, and one function that checks a value (from the file or from `settings set`) against it."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, Union

from voicecoach.speech.engine import ENGINES
from voicecoach.voice.synthesizer import MAX_RATE, MIN_RATE

Value = Union[str, int, float, bool]
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


@dataclass(frozen=True)
class SettingKey:
    """One key of the settings file. `dest` is the `run` option's argparse name; `kind` is text, device,
    path, int, float, bool or choice; `minimum`/`maximum` bound numbers."""

    name: str
    dest: str
    kind: str
    help: str
    example: Value
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    remote: str = ""  # "engine" or "voice": the key also takes a Wyoming server's wyoming://HOST:PORT address

    @property
    def flag(self) -> str:
        return "--" + self.dest.replace("_", "-")

    def allowed(self) -> str:
        """What the key accepts, in words (for error messages and the file's template)."""
        if self.kind == "choice":
            return "one of " + ", ".join(f'"{c}"' for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind in ("int", "float"):
            number = "a whole number" if self.kind == "int" else "a number"
            return f"{number} from {_num(self.minimum)} to {_num(self.maximum)}"
        if self.kind == "device":
            return 'a device name (in quotes) or index, see `voicecoach devices`'
        if self.kind == "path":
            return "a folder path in quotes"
        return "a text in quotes"


# The `run` options worth keeping. Not kept: --input, --realtime, --wav-out (one recording's business),
# --fresh (one session's choice) and --record (keeping what the microphone hears must be asked for each time).
KEYS: tuple[SettingKey, ...] = (
    SettingKey("input-device", "input_device", "device", "the microphone, by name or index", "pulse"),
    SettingKey("output-device", "output_device", "device", "the speaker, by name or index", "pulse"),
    SettingKey("engine", "engine", "choice", "the speech recognizer, or a Wyoming server on your network as "
               '"wyoming://HOST:PORT" (your voice is sent there)', "auto", choices=ENGINES, remote="engine"),
    SettingKey("model", "model", "path", "a Vosk model folder", "~/vosk-model-small-en-us-0.15"),
    SettingKey("voice", "voice", "text", 'the voice: "piper", "espeak", a voice id (`voicecoach voices`), or a '
               'Wyoming server as "wyoming://HOST:PORT/VOICE" (the coach\'s text is sent there)', "piper",
               remote="voice"),
    SettingKey("rate", "rate", "int", "speaking rate in words per minute (wins over the pace saved with your "
               "progress, like --rate)", 170, MIN_RATE, MAX_RATE),
    SettingKey("volume", "volume", "float", "speech volume", 1.0, 0.0, 1.0),
    SettingKey("wake-word", "wake_word", "text", "only speech that starts with this phrase counts", "hey coach"),
    SettingKey("continuous", "continuous", "bool", "read the whole guide like an audiobook", False),
    SettingKey("hangover-ms", "hangover_ms", "int", "the silence that ends an utterance, in milliseconds", 360,
               90, 3000),
    SettingKey("early-ms", "early_ms", "int", "the pause after which a complete command is acted on without "
               "waiting the full hangover, in milliseconds (0: off)", 150, 0, 3000),
    SettingKey("min-confidence", "min_confidence", "float", "reject transcripts below this confidence", 0.5,
               0.0, 1.0),
    SettingKey("quiet", "quiet", "bool", "no live status line", False),
    SettingKey("echo-cancel", "echo_cancel", "choice", "cancel the coach's own voice in the microphone so you can "
               "talk over a loudspeaker (auto: when pywebrtc-audio is installed)", "auto",
               choices=("auto", "on", "off")),
    SettingKey("guide", "guide", "text", "the guide, by id or path (`voicecoach content list`)", "first-guide"),
)
BY_NAME = {key.name: key for key in KEYS}
# What `run` does when neither the file nor a flag sets the key (shown by `settings show`).
DEFAULTS = {
    "input-device": "the system's default microphone", "output-device": "the system's default speaker",
    "engine": '"auto": a Vosk model you installed, else Whisper, else PocketSphinx', "model": "none",
    "voice": "Piper when its voice is installed, else espeak-ng (VOICECOACH_VOICE sets it too)",
    "rate": "the pace saved with your progress, else 170", "volume": "1.0", "wake-word": "none (off)",
    "continuous": "false", "hangover-ms": "360", "early-ms": "150", "min-confidence": "0.5", "quiet": "false",
    "echo-cancel": '"auto": on when pywebrtc-audio is installed',
    "guide": "the only or first guide found",
}


class BadValue(ValueError):
    """A value the key does not accept; the message says what is allowed."""


def find_key(name: str) -> SettingKey | None:
    """The key called `name` (underscores accepted for dashes), or None."""
    return BY_NAME.get(name.strip().lower().replace("_", "-"))


def suggest(name: str) -> str:
    """ ' (did you mean "rate"?)' for a near miss, else ''."""
    close = difflib.get_close_matches(name.lower().replace("_", "-"), list(BY_NAME), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def known_keys() -> str:
    return ", ".join(BY_NAME)


def check_value(key: SettingKey, value: Any) -> Value:
    """`value` as read from the file (TOML types), checked; BadValue says what is allowed."""
    if key.kind == "bool":
        if isinstance(value, bool):
            return value
        raise BadValue(f"must be true or false (without quotes), not {_shown(value)}")
    if key.kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise BadValue(f"must be {key.allowed()} (without quotes), not {_shown(value)}")
        if key.kind == "int" and isinstance(value, float):
            if not value.is_integer():
                raise BadValue(f"must be {key.allowed()}, not {value}")
            value = int(value)
        if not math.isfinite(value) or not key.minimum <= value <= key.maximum:  # type: ignore[operator]
            raise BadValue(f"{_num(value)} is out of range: use {key.allowed()}")
        return int(value) if key.kind == "int" else float(value)
    if key.kind == "device" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if not isinstance(value, str):
        raise BadValue(f"must be {key.allowed()}, not {_shown(value)}")
    text = value.strip()
    if not text:
        raise BadValue(f"is empty: give {key.allowed()}, or remove the line to use the default")
    if key.remote and text.lower().startswith("wyoming://"):
        from voicecoach.errors import ModelError
        from voicecoach.speech.wyoming_link import parse_address
        try:
            return str(parse_address(text, allow_name=key.remote == "voice"))
        except ModelError as error:
            raise BadValue(f"{error.message}: {error.hint}") from None
    if key.kind == "choice":
        if text.lower() not in key.choices:
            close = difflib.get_close_matches(text.lower(), key.choices, n=1, cutoff=0.6)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            raise BadValue(f'"{text}" is not allowed: use {key.allowed()}{hint}')
        return text.lower()
    return text


def parse_text(key: SettingKey, text: str) -> Value:
    """A value typed on the command line (`settings set KEY VALUE`), converted and checked."""
    word = text.strip()
    if key.kind == "bool":
        if word.lower() in TRUE_WORDS:
            return True
        if word.lower() in FALSE_WORDS:
            return False
        raise BadValue(f'must be true or false, not "{text}"')
    if key.kind in ("int", "float"):
        try:
            number: float = int(word) if key.kind == "int" else float(word)
        except ValueError:
            raise BadValue(f'must be {key.allowed()}, not "{text}"') from None
        return check_value(key, number)
    return check_value(key, text)


def _num(value: float | None) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f'the text "{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return "a table" if isinstance(value, dict) else "a list"
    return str(value)
