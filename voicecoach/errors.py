"""The one exception family for mistakes a user can make: each carries a message and a hint."""

from __future__ import annotations


class VoicecoachError(Exception):
    """An error the user can fix. The CLI prints `message` and `hint` and exits non-zero."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class GuideError(VoicecoachError):
    """A guide file could not be loaded; `problems` lists every issue found, one line each."""

    exit_code = 2

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        count = len(problems)
        summary = f"{path}: {count} problem{'s' if count != 1 else ''} found"
        super().__init__(summary + "\n" + "\n".join(f"  {p}" for p in problems),
                         "fix the lines above, then run `voicecoach content validate` on the file")


class DeviceError(VoicecoachError):
    """An audio device is missing, busy or cannot be opened."""

    exit_code = 3


class ModelError(VoicecoachError):
    """A speech model is missing, corrupt or cannot be fetched."""

    exit_code = 4
