"""Audio output devices: resolve --output-device (a name fragment or an index) among the devices."""

from __future__ import annotations

from voicecoach.audio.devices import DeviceInfo, find_device, list_devices, load_sounddevice
from voicecoach.errors import DeviceError

__all__ = ["UnknownDeviceError", "load_sounddevice", "output_devices", "resolve_output_device"]


class UnknownDeviceError(DeviceError):
    """The user named an output device that does not exist."""


def output_devices() -> list[DeviceInfo]:
    """Every device that can play sound; the default is marked `default_output`."""
    return [d for d in list_devices() if d.max_output_channels > 0]


def resolve_output_device(spec: str | int | None) -> DeviceInfo:
    """The device for an index ("3"), a case-insensitive name fragment ("pulse"), or None (the default)."""
    devices = output_devices()
    if not devices:
        raise DeviceError("no audio output device found",
                          "connect speakers or headphones, or start PulseAudio or PipeWire")
    match = find_device(spec, devices, lambda d: d.default_output)
    if match is None:
        listing = "; ".join(f"{d.index}: {d.name}" for d in devices)
        raise UnknownDeviceError(f"no audio output device matches {str(spec).strip()!r}", f"output devices are: {listing}")
    return match
