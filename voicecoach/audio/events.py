"""News about the audio devices for the live loop: the microphone or the speaker went away, or came back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

RETRY_SECONDS = 3.0  # how often a lost device is tried again


@dataclass(frozen=True)
class DeviceEvent:
    role: str  # "microphone" or "speaker"
    available: bool  # False: lost; True: back again
    name: str  # the device's name
    detail: str = ""  # what went wrong (for the log and the terminal)

    def describe(self) -> str:
        if self.available:
            return f"the {self.role} ({self.name}) is back"
        return (f"lost the {self.role} ({self.name}{': ' + self.detail if self.detail else ''}); "
                f"trying again every {RETRY_SECONDS:.0f} s, your place is kept")


DeviceListener = Callable[[DeviceEvent], None]
