"""Audio output devices as values: list them and resolve --output-device (a name fragment or an index)."""

from __future__ import annotations

from dataclasses import dataclass

from voicecoach.errors import DeviceError


class UnknownDeviceError(DeviceError):
    """The user named an output device that does not exist."""


@dataclass(frozen=True)
class OutputDevice:
    index: int
    name: str
    channels: int
    default_samplerate: float
    is_default: bool


def load_sounddevice():
    """The sounddevice module, or DeviceError when PortAudio is missing."""
    try:
        import sounddevice
    except OSError as error:  # sounddevice raises OSError when libportaudio cannot be loaded
        raise DeviceError(f"no audio output: PortAudio is not available ({error})",
                          "install it: sudo apt-get install libportaudio2") from error
    return sounddevice


def output_devices() -> list[OutputDevice]:
    """Every device that can play sound, default first marked `is_default`."""
    sd = load_sounddevice()
    try:
        devices = sd.query_devices()
        default = sd.default.device[1]
    except Exception as error:  # PortAudioError while scanning
        raise DeviceError(f"could not list audio devices ({error})", "check that the sound system is running") from error
    if isinstance(default, str):
        default = next((d["index"] for d in devices if d["name"] == default), -1)
    return [OutputDevice(d["index"], d["name"], d["max_output_channels"], d["default_samplerate"],
                         d["index"] == default)
            for d in devices if d["max_output_channels"] > 0]


def resolve_output_device(spec: str | int | None) -> OutputDevice:
    """The device for an index ("3"), a case-insensitive name fragment ("pulse"), or None (the default)."""
    devices = output_devices()
    if not devices:
        raise DeviceError("no audio output device found",
                          "connect speakers or headphones, or start PulseAudio or PipeWire")
    listing = "; ".join(f"{d.index}: {d.name}" for d in devices)
    if spec is None or str(spec).strip() == "":
        default = next((d for d in devices if d.is_default), None)
        if default is None:
            raise DeviceError("no default audio output device", f"choose one with --output-device ({listing})")
        return default
    text = str(spec).strip()
    if text.isdigit():
        match = next((d for d in devices if d.index == int(text)), None)
    else:
        exact = [d for d in devices if d.name.lower() == text.lower()]
        partial = [d for d in devices if text.lower() in d.name.lower()]
        match = (exact or partial or [None])[0]
    if match is None:
        raise UnknownDeviceError(f"no audio output device matches {text!r}", f"output devices are: {listing}")
    return match
