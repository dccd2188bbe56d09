"""Audio devices as values: list what PortAudio sees, and find one by index or name for a role.

sounddevice is imported lazily: PortAudio scans devices (and reads PULSE_SERVER) when it is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Callable

from voicecoach.errors import DeviceError

NO_AUDIO_HINT = "install PortAudio (Debian: libportaudio2), or use `voicecoach chat`"


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    default_input: bool
    default_output: bool


def load_sounddevice() -> ModuleType:
    """The sounddevice module, or DeviceError when the PortAudio library is missing."""
    try:
        import sounddevice
    except OSError as error:  # sounddevice raises OSError when libportaudio cannot be loaded
        raise DeviceError(f"audio is unavailable: {error}", NO_AUDIO_HINT) from None
    return sounddevice


def list_devices() -> list[DeviceInfo]:
    """Every audio device PortAudio sees, with the default input and output marked."""
    sd = load_sounddevice()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_in, default_out = sd.default.device
    except sd.PortAudioError as error:
        raise DeviceError(f"cannot list audio devices: {error}", "check that the sound system is running") from None
    return [DeviceInfo(index=index, name=device["name"], host_api=apis[device["hostapi"]]["name"],
                       max_input_channels=device["max_input_channels"],
                       max_output_channels=device["max_output_channels"],
                       default_samplerate=float(device["default_samplerate"]),
                       default_input=index == default_in, default_output=index == default_out)
            for index, device in enumerate(devices)]


def describe_devices(devices: list[DeviceInfo]) -> str:
    """One line per device: '* 3 name (in 2, out 0, 48000 Hz)'; '*' marks a default."""
    if not devices:
        return "  (no audio devices found)"
    lines = []
    for d in devices:
        mark = "*" if d.default_input or d.default_output else " "
        roles = ", ".join(r for r, on in (("default input", d.default_input), ("default output", d.default_output)) if on)
        lines.append(f"{mark} {d.index:2d} {d.name} (in {d.max_input_channels}, out {d.max_output_channels}, "
                     f"{d.default_samplerate:.0f} Hz{', ' + roles if roles else ''})")
    return "\n".join(lines)


def find_device(spec: str | int | None, candidates: list[DeviceInfo],
                is_default: Callable[[DeviceInfo], bool]) -> DeviceInfo | None:
    """The candidate for an index ("3"), a case-insensitive name (exact, then a fragment), or None for
    the default (else the first); None when nothing matches."""
    if spec is None or str(spec).strip() == "":
        return next((d for d in candidates if is_default(d)), candidates[0] if candidates else None)
    text = str(spec).strip()
    if text.isdigit():
        return next((d for d in candidates if d.index == int(text)), None)
    exact = [d for d in candidates if d.name.lower() == text.lower()]
    partial = exact or [d for d in candidates if text.lower() in d.name.lower()]
    return partial[0] if partial else None


def close_stream_quietly(stream: object) -> None:
    """Stop and close a sounddevice stream whose device may already have failed."""
    try:
        stream.stop()  # type: ignore[attr-defined]
        stream.close()  # type: ignore[attr-defined]
    except Exception:  # PortAudioError from a device that went away
        pass
